import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { testEnv } from '../support/env';
import { api } from '../support/http';
import { tarContext } from '../support/jobs';

/**
 * The build-context spool on a disk that fills up: Drydock's data directory is a
 * 2 MiB tmpfs, so a 4 MiB context runs out of space half-way through its upload.
 */
describe('a build context on a full disk', () => {
  let disk: string;
  let running: RunningApp;
  let context: Buffer;

  beforeAll(async () => {
    disk = mkdtempSync(join(tmpdir(), 'drydock-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    running = await startApp({ DRYDOCK_DATA_DIR: disk, DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    // Incompressible, so no filesystem trick makes it fit.
    const blob = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    context = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n`, blob });
  });
  afterAll(async () => {
    await running?.close();
    if (running) await dropRedisKeys(running.config.keyPrefix);
    execFileSync('umount', [disk]);
    rmSync(disk, { recursive: true, force: true });
  });

  const spooled = () => readdirSync(running.config.contextsDir).filter((name) => !name.startsWith('.'));

  it.each([
    ['a build', `/v1/builds?t=${testEnv.registry}/full/app:1`],
    ['an upload', '/v1/builds/contexts'],
  ])('answers 507 INSUFFICIENT_STORAGE to %s and leaves no spool file behind', async (_name, path) => {
    const res = await api(running).post(path).set('content-type', 'application/x-tar').send(context);
    expect(res.status).toBe(507);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('INSUFFICIENT_STORAGE');
    expect(spooled()).toEqual([]);
  });

  it('takes the next context that fits once the failed one is gone', async () => {
    const small = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n` });
    const res = await api(running).post('/v1/builds/contexts').set('content-type', 'application/x-tar').send(small);
    expect(res.status).toBe(201);
  });
});
