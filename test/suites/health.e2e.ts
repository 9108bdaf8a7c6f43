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
