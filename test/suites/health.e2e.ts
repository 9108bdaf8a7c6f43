import request from 'supertest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, writeTokensFile, type RunningApp } from '../support/app';
import { api } from '../support/http';
import { startProcess } from '../support/process';

describe('health and docs', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(() => running.close());

  it('is live, and ready when the engine and Redis answer', async () => {
    await request(running.url).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(running.url).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', engine: { status: 'up' }, redis: { status: 'up' } });
  });

  it('says which dependency is down when the engine cannot be reached', async () => {
    const broken = await startApp({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    try {
      const ready = await request(broken.url).get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', engine: { status: 'down' }, redis: { status: 'up' } });
      const list = await api(broken).get('/v1/images').expect(503);
      expect(list.headers['content-type']).toContain('application/problem+json');
      expect(list.body.code).toBe('ENGINE_UNAVAILABLE');
    } finally {
      await broken.close();
    }
  });

  // Probes and the API's documentation answer without a token.
  it('serves the OpenAPI document and its UI', async () => {
    const doc = await request(running.url).get('/docs-json').expect(200);
    expect(doc.body.paths['/v1/images']).toBeDefined();
    expect(doc.body.paths['/v1/images/{ref}']).toBeDefined();
    await request(running.url).get('/docs').expect((res) => expect([200, 301, 302]).toContain(res.status));
  });
});

describe('when Redis is away', () => {
  // Its own process: BullMQ's connections to a Redis that never answers cannot be closed in-process.
  it('says so on /health/ready, answers job requests 503 REDIS_UNAVAILABLE quickly, and still stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drydock-noredis-'));
    const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
    // Port 1 on loopback: nothing listens there, so every connection is refused at once.
    const drydock = await startProcess('all', { REDIS_URL: 'redis://127.0.0.1:1', DRYDOCK_TOKENS_FILE: file, DRYDOCK_DATA_DIR: dataDir });
    const auth = { authorization: `Bearer ${tokens['admin']}` };
    try {
      const ready = await request(drydock.url).get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', engine: { status: 'up' }, redis: { status: 'down' } });
      const started = Date.now();
      const pull = await request(drydock.url).post('/v1/images/pull').set(auth).send({ reference: 'localhost:5001/x/y:1' }).expect(503);
      expect(pull.headers['content-type']).toContain('application/problem+json');
      expect(pull.body.code).toBe('REDIS_UNAVAILABLE');
      const jobs = await request(drydock.url).get('/v1/jobs').set(auth).expect(503);
      expect(jobs.body.code).toBe('REDIS_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(15_000);
      // The image catalogue needs only the engine.
      await request(drydock.url).get('/v1/images').set(auth).expect(200);
    } finally {
      drydock.child.kill('SIGTERM');
    }
    expect([0, 'SIGTERM']).toContain(await drydock.exited);
    // One line says Redis is away; the reconnect attempts do not each get one.
    expect(drydock.output().split('\n').filter((line) => line.includes('ECONNREFUSED')).length).toBeLessThan(10);
  }, 60_000);
});
