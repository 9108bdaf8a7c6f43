import request from 'supertest';
import { startApp, type RunningApp } from '../support/app';
import { api } from '../support/http';

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
  it('says so on /health/ready and answers job requests 503 REDIS_UNAVAILABLE, quickly', async () => {
    // Port 1 on loopback: nothing listens there, so every connection is refused at once.
    const broken = await startApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await api(broken).get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', engine: { status: 'up' }, redis: { status: 'down' } });
      const started = Date.now();
      const pull = await api(broken).post('/v1/images/pull').send({ reference: 'localhost:5001/x/y:1' }).expect(503);
      expect(pull.headers['content-type']).toContain('application/problem+json');
      expect(pull.body.code).toBe('REDIS_UNAVAILABLE');
      const jobs = await api(broken).get('/v1/jobs').expect(503);
      expect(jobs.body.code).toBe('REDIS_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(15_000);
      // The image catalogue needs only the engine.
      await api(broken).get('/v1/images').expect(200);
    } finally {
      await broken.close();
    }
  }, 60_000);
});
