import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, parseRedisUrl, redisKeyBase, type RedisClient } from '@drydock/jobs';
import { Cluster, Redis } from 'ioredis';
import { writeTokensFile } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, wsClient } from '../support/graphql';
import { expectEveryEventDelivered, expectJobDelivered, followJob, jobStorm, type StormResult } from '../support/job-storm';
import { getJob } from '../support/jobs';
import { OwnCluster } from '../support/own-cluster';
import { startProcess, type DrydockProcess } from '../support/process';

/** Every key under a deployment's tag: they all live on the one master that serves its slot. */
async function keysOf(cluster: Cluster, prefix: string): Promise<string[]> {
  const base = redisKeyBase(prefix);
  const found: string[] = [];
  for (const node of cluster.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${base}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/**
 * The job part of the multi-process suite, on the three-master Redis Cluster
 * of scripts/services.sh: 2 API and 2 worker processes, jobs submitted to
 * both APIs at once, each followed over SSE and graphql-ws on different APIs.
 */
describe('Drydock on a Redis Cluster', () => {
  const ns = uniqueNamespace('e2e-cluster');
  const prefix = `e2e-cluster-${randomUUID().slice(0, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-cluster-'));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const token = tokens['admin'] as string;
  const shared = { REDIS_URL: testEnv.redisClusterUrl, DRYDOCK_KEY_PREFIX: prefix, DRYDOCK_TOKENS_FILE: file, DRYDOCK_DATA_DIR: dataDir };
  const started: DrydockProcess[] = [];
  let cluster: Cluster;
  let apis: [string, string];
  let storm: StormResult;

  beforeAll(async () => {
    cluster = connectRedis(parseRedisUrl(testEnv.redisClusterUrl)) as Cluster;
    // Two waves, as jobs-processes does: four Node start-ups at once outrun startProcess's deadline on a loaded machine.
    const [apiA, apiB] = await Promise.all([startProcess('api', shared), startProcess('api', shared)]);
    started.push(apiA, apiB);
    started.push(...(await Promise.all([startProcess('worker', shared), startProcess('worker', shared)])));
    apis = [apiA.url, apiB.url];
  }, 90_000);

  afterAll(async () => {
    for (const child of started) if (child.child.exitCode === null) child.child.kill('SIGTERM');
    await Promise.all(started.map((child) => child.exited));
    for (const id of docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${prefix}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
    removeImagesUnder(ns);
    const keys = await keysOf(cluster, prefix);
    // One slot: one DEL may name them all.
    for (let i = 0; i < keys.length; i += 500) await cluster.del(...keys.slice(i, i + 500));
    cluster.disconnect();
  }, 60_000);

  it('runs 60 concurrent builds, runs and pulls to their end, every SSE and graphql-ws subscriber getting every event in order, once', async () => {
    storm = await jobStorm({ apis, token, jobs: 60, namespace: ns, kinds: ['build', 'run', 'pull', 'build', 'run'], deadlineMs: 90_000 });
    expectEveryEventDelivered(storm);
    const ids = new Set(storm.jobs.map((job) => job.id));
    // Concurrent pulls of one image share a job; the builds and runs are each their own.
    expect(ids.size).toBeGreaterThanOrEqual(49);
    console.log(`cluster storm: ${storm.jobs.length} submissions, ${ids.size} jobs, ${storm.delivered} events delivered in ${storm.elapsedMs} ms`);
  }, 120_000);

  it('keeps every key of the deployment, BullMQ\'s included, in the one slot of its hash tag on the Cluster, and none on the plain Redis', async () => {
    const keys = await keysOf(cluster, prefix);
    const base = redisKeyBase(prefix);
    const slot = Number(await cluster.cluster('KEYSLOT', base));
    expect(new Set(await Promise.all(keys.slice(0, 50).map(async (key) => Number(await cluster.cluster('KEYSLOT', key)))))).toEqual(new Set([slot]));
    for (const job of storm.jobs) expect(keys).toContain(`${base}:job:${job.id}`);
    expect(keys.some((key) => key.startsWith(`${base}:bull:`))).toBe(true);
    expect(keys).toContain(`${base}:audit`);
    const plain: RedisClient = new Redis(testEnv.redisUrl);
    try {
      expect(await plain.exists(`${base}:jobs`)).toBe(0);
    } finally {
      plain.disconnect();
    }
  });
});

/**
 * A failover of the master serving Drydock's slot, on a Cluster of the
 * suite's own: the shared one of scripts/services.sh is never killed.
 */
describe('Drydock on a Redis Cluster that fails over', () => {
  const prefix = `e2e-failover-${randomUUID().slice(0, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-failover-'));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const token = tokens['admin'] as string;
  const started: DrydockProcess[] = [];
  let nodes: OwnCluster;
  let own: Cluster;
  let api: string;

  beforeAll(async () => {
    nodes = await OwnCluster.start();
    own = connectRedis(parseRedisUrl(nodes.url)) as Cluster;
    const shared = { REDIS_URL: nodes.url, DRYDOCK_KEY_PREFIX: prefix, DRYDOCK_TOKENS_FILE: file, DRYDOCK_DATA_DIR: dataDir };
    const [apiProcess, worker] = await Promise.all([startProcess('api', shared), startProcess('worker', shared)]);
    started.push(apiProcess, worker);
    api = apiProcess.url;
  }, 120_000);

  afterAll(async () => {
    // SIGKILL: a process holding a connection to the node killed would wait for it to close.
    for (const child of started) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await Promise.all(started.map((child) => child.exited));
    for (const id of docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${prefix}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
    own?.disconnect();
    await nodes?.stop();
  }, 60_000);

  it('rides a failover of the master serving its slot: a job running meanwhile ends SUCCEEDED with every event it made', async () => {
    const slot = Number(await own.cluster('KEYSLOT', redisKeyBase(prefix)));
    // Asked of a node still up, over a connection of its own: the Cluster client may still be stuck on the node killed.
    const masterOf = async (): Promise<[string, number]> => {
      const node = new Redis({ port: nodes.ports.find((candidate) => candidate !== killed) ?? 0, lazyConnect: true, maxRetriesPerRequest: 1 });
      const slots = await node.cluster('SLOTS').finally(() => node.disconnect());
      const range = slots.find(([from, to]) => from <= slot && slot <= to);
      const master = range?.[2];
      if (!master) throw new Error(`no master serves slot ${slot}`);
      return [master[0], Number(master[1])];
    };
    let killed: number | undefined;
    const [, port] = await masterOf();

    const response = await fetch(`${api}/v1/containers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: testEnv.fixture, cmd: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo tick $i; sleep 1; done'] }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const client = wsClient(api.replace(/^http/, 'ws') + '/graphql', { authorization: `Bearer ${token}` });
    try {
      await eventually(async () => ((await getJob(api, token, id).catch(() => undefined))?.state === 'RUNNING' ? true : undefined), 30_000, 'the run to start');
      killed = port;
      await nodes.kill(port);
      // The API fails fast meanwhile (503); the worker holds the job's events until a replica takes the slot over.
      await eventually(async () => ((await masterOf().catch(() => undefined))?.[1] ?? port) !== port ? true : undefined, 60_000, 'a replica to take the slot over');
      const final = await eventually(async () => {
        const job = await getJob(api, token, id).catch(() => undefined);
        return job && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state) ? job : undefined;
      }, 60_000, 'the job to end');
      // Everything the job did is stored, in order: a subscriber now gets all of it, on either API.
      const { sse, ws } = await followJob(id, token, api, client, 30_000);
      expectJobDelivered({ id, kind: 'run', submittedTo: api, sseFrom: api, wsFrom: api, sse, ws, final });
      expect(sse.filter((event) => event.message?.startsWith('tick ')).map((event) => event.message)).toEqual(Array.from({ length: 12 }, (_, i) => `tick ${i + 1}`));
    } finally {
      await client.dispose();
    }
  }, 120_000);
});
