import request from 'supertest';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { gql } from '../support/graphql';
import { api } from '../support/http';

describe('who a token is (GET /v1/me, GraphQL me)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({}, { tokens: [{ name: 'viewer-a', team: 'team-a', role: 'viewer', namespaces: ['team-a/*'] }] });
  });

  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  it("answers a viewer's name, team, role and namespaces over REST", async () => {
    const response = await api(running, running.tokens['viewer-a']).get('/v1/me').expect(200);
    expect(response.body).toEqual({ name: 'viewer-a', team: 'team-a', role: 'viewer', namespaces: ['team-a/*'] });
  });

  it('answers the same over GraphQL', async () => {
    const response = await gql<{ me: { name: string; team: string; role: string; namespaces: string[] } }>(
      running.url,
      '{ me { name team role namespaces } }',
      {},
      { authorization: `Bearer ${running.token}` },
    );
    expect(response.data?.me).toEqual({ name: 'admin', team: 'ops', role: 'admin', namespaces: [] });
  });

  it('refuses a bad token with a 401 problem the console can show', async () => {
    const response = await request(running.url).get('/v1/me').set('authorization', 'Bearer not-a-token').expect(401);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  });
});
