import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, parseRedisUrl, redisKeyBase, type RedisClient } from '@drydock/jobs';
import { Redis } from 'ioredis';
import { writeTokensFile } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { expectEveryEventDelivered, jobStorm } from '../support/job-storm';
import { startProcess, type DrydockProcess } from '../support/process';

/** Drydock finds its Redis through the Sentinel of scripts/services.sh, which watches one master. */
describe('Drydock behind Redis Sentinel', () => {
  const ns = uniqueNamespace('e2e-sentinel');
  const prefix = `e2e-sentinel-${randomUUID().slice(0, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-sentinel-'));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const token = tokens['admin'] as string;
  let app: DrydockProcess;
  let master: RedisClient;

  beforeAll(async () => {
    // The same client Drydock makes: it asks the sentinels where the master is.
    master = connectRedis(parseRedisUrl(testEnv.redisSentinelUrl));
    app = await startProcess('all', { REDIS_URL: testEnv.redisSentinelUrl, DRYDOCK_KEY_PREFIX: prefix, DRYDOCK_TOKENS_FILE: file, DRYDOCK_DATA_DIR: dataDir });
  }, 60_000);

  afterAll(async () => {
    if (app.child.exitCode === null) app.child.kill('SIGTERM');
    await app.exited;
    for (const id of docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${prefix}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
    removeImagesUnder(ns);
    const keys = await master.keys(`${redisKeyBase(prefix)}:*`);
    if (keys.length) await master.del(...keys);
    master.disconnect();
  }, 60_000);

  it('runs a pull, a build and a run through the master the sentinels name, every event reaching SSE and graphql-ws', async () => {
    const storm = await jobStorm({ apis: [app.url], token, jobs: 3, namespace: ns });
    expectEveryEventDelivered(storm);
    for (const job of storm.jobs) expect(await master.exists(`${redisKeyBase(prefix)}:job:${job.id}`)).toBe(1);
    const plain = new Redis(testEnv.redisUrl);
    try {
      expect(await plain.exists(`${redisKeyBase(prefix)}:jobs`)).toBe(0);
    } finally {
      plain.disconnect();
    }
  }, 90_000);
});
