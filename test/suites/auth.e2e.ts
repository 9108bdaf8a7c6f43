import request from 'supertest';
import WebSocket from 'ws';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, dropRedisKeys, startApp, type RunningApp, type TokenSpec } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, gql, wsClient } from '../support/graphql';
import { api } from '../support/http';

type Who = 'viewer' | 'builderA' | 'builderB' | 'admin';
const WHO: Who[] = ['viewer', 'builderA', 'builderB', 'admin'];

const TOKENS: TokenSpec[] = [
  { name: 'viewer', team: 'team-a', role: 'viewer' },
  { name: 'builderA', team: 'team-a', role: 'builder', namespaces: ['localhost:5001/team-a/**', 'team-a/*'] },
  { name: 'builderB', team: 'team-b', role: 'builder', namespaces: ['localhost:5001/team-b/**', 'team-b/*'] },
];

/** Whether the engine knows a reference: the check that a refused write never reached it. */
function exists(reference: string): boolean {
  try {
    docker('image', 'inspect', '--format', '{{.Id}}', reference);
    return true;
  } catch {
    return false;
  }
}

/** Opens a raw graphql-transport-ws socket, sends connection_init, and reports how the server answered. */
function wsHandshake(wsUrl: string, payload?: Record<string, unknown>): Promise<{ acked: boolean; code?: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('no answer to connection_init in 5 s'));
    }, 5_000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(payload ? { payload } : {}) })));
    socket.on('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') {
        clearTimeout(timer);
        socket.close(1000);
        resolve({ acked: true });
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ acked: false, code, reason: String(reason) });
    });
    socket.on('error', reject);
  });
}

describe('authentication and roles', () => {
  let running: RunningApp;
  const ns = uniqueNamespace('auth');
  let source: string;
  let sourceId: string;
  const token = (who: Who): string => (who === 'admin' ? running.token : (running.tokens[who] as string));

  beforeAll(async () => {
    running = await startApp({}, { tokens: TOKENS });
    // Our own name on the fixture, so other suites removing theirs cannot pull the image from under us.
    docker('pull', testEnv.fixture);
    source = `${ns}/base:1`;
    docker('tag', testEnv.fixture, source);
    sourceId = docker('image', 'inspect', '--format', '{{.Id}}', source);
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
    removeImagesUnder(ns);
  });

  describe('REST, table-driven over roles', () => {
    const reads: Array<[string, () => string]> = [
      ['list', () => '/v1/images'],
      ['list with a filter', () => `/v1/images?reference=${encodeURIComponent(`${ns}/*`)}`],
      ['inspect', () => `/v1/images/${encodeURIComponent(source)}`],
      ['history', () => `/v1/images/${encodeURIComponent(source)}/history`],
      ['registries', () => '/v1/registries'],
    ];
    it.each(WHO.flatMap((who) => reads.map(([what, path]) => [who, what, path] as const)))('%s may read: %s', async (who, _what, path) => {
      await api(running, token(who)).get(path()).expect(200);
    });

    it.each<[Who, number]>([
      ['viewer', 403],
      ['builderA', 403],
      ['builderB', 403],
      ['admin', 200],
    ])('%s reading the audit trail: %i', async (who, status) => {
      const response = await api(running, token(who)).get('/v1/audit').expect(status);
      if (status === 403) expect(response.body.code).toBe('FORBIDDEN');
    });

    it.each<[Who, string, number]>([
      ['viewer', 'team-a', 403],
      ['builderA', 'team-a', 201],
      ['builderA', 'localhost:5001/team-a', 201],
      ['builderA', 'team-b', 403],
      ['builderA', 'localhost:5001/team-b', 403],
      ['builderA', 'elsewhere', 403],
      ['builderB', 'team-a', 403],
      ['builderB', 'team-b', 201],
      ['admin', 'team-a', 201],
      ['admin', 'elsewhere', 201],
    ])('%s tagging into %s/...: %i, and a refused tag never reaches the engine', async (who, prefix, status) => {
      const repository = prefix === 'elsewhere' ? `${ns}/elsewhere` : `${prefix}/${ns}`;
      const tag = `by-${who.toLowerCase()}`;
      const response = await api(running, token(who))
        .post(`/v1/images/${encodeURIComponent(source)}/tags`)
        .send({ repository, tag })
        .expect(status);
      if (status === 403) {
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.body.code).toBe('FORBIDDEN');
        expect(exists(`${repository}:${tag}`)).toBe(false);
      } else {
        expect(response.body.repoTags).toContainEqual({ repository, tag });
        expect(exists(`${repository}:${tag}`)).toBe(true);
      }
    });

    it('lets a builder remove only what its namespaces name, by reference or by id', async () => {
      const mine = `team-a/${ns}:to-remove`;
      const theirs = `team-b/${ns}:to-remove`;
      docker('tag', source, mine);
      docker('tag', source, theirs);
      for (const who of ['viewer', 'builderB'] as const) {
        const refused = await api(running, token(who)).delete(`/v1/images/${encodeURIComponent(mine)}`).expect(403);
        expect(refused.body.code).toBe('FORBIDDEN');
      }
      expect(exists(mine)).toBe(true);
      await api(running, token('builderA')).delete(`/v1/images/${encodeURIComponent(theirs)}`).expect(403);
      expect(exists(theirs)).toBe(true);
      // By id the image's every name counts, and this one carries names outside team-a.
      const byId = await api(running, token('builderA')).delete(`/v1/images/${encodeURIComponent(sourceId)}?force=true`).expect(403);
      expect(byId.body.detail).toMatch(/outside its namespaces/);
      expect(exists(sourceId)).toBe(true);
      const removed = await api(running, token('builderA')).delete(`/v1/images/${encodeURIComponent(mine)}`).expect(200);
      expect(removed.body.untagged).toEqual([mine]);
      expect(exists(mine)).toBe(false);
    });

    it.each<[Who, number]>([
      ['viewer', 403],
      ['builderA', 403],
      ['builderB', 403],
      ['admin', 200],
    ])('%s pruning: %i', async (who, status) => {
      // A label nothing carries: the prune is real but cannot touch another suite's images.
      await api(running, token(who))
        .post('/v1/images/prune')
        .send({ dangling: true, labels: [`drydock-e2e-${ns}=none`] })
        .expect(status);
    });
  });

  describe('GraphQL over HTTP, table-driven over roles', () => {
    const query = `query($ref: String!) { images { id } image(ref: $ref) { id } imageHistory(ref: $ref) { id } registries { host } }`;
    it.each(WHO)('%s may query images, an image, its history and registries', async (who) => {
      const response = await gql<{ image: { id: string } }>(running.url, query, { ref: source }, bearer(token(who)));
      expect(response.errors).toBeUndefined();
      expect(response.data?.image.id).toBe(sourceId);
    });

    const tag = `mutation($source: String!, $repository: String!, $tag: String) { tagImage(source: $source, repository: $repository, tag: $tag) { id } }`;
    it.each<[Who, string, boolean]>([
      ['viewer', 'team-a', false],
      ['builderA', 'team-a', true],
      ['builderA', 'team-b', false],
      ['builderB', 'team-b', true],
      ['builderB', 'team-a', false],
      ['admin', 'team-b', true],
    ])('%s tagImage into %s/...: allowed %s', async (who, team, allowed) => {
      const repository = `localhost:5001/${team}/${ns}/gql`;
      const tagName = `by-${who.toLowerCase()}`;
      const response = await gql<{ tagImage: { id: string } }>(running.url, tag, { source, repository, tag: tagName }, bearer(token(who)));
      if (allowed) {
        expect(response.errors).toBeUndefined();
        expect(response.data?.tagImage.id).toBe(sourceId);
      } else {
        expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      expect(exists(`${repository}:${tagName}`)).toBe(allowed);
    });

    it.each<[Who, boolean]>([
      ['viewer', false],
      ['builderA', false],
      ['admin', true],
    ])('%s pruneImages and auditLog: allowed %s', async (who, allowed) => {
      const response = await gql(
        running.url,
        `mutation($labels: [String!]) { pruneImages(input: { dangling: true, labels: $labels }) { spaceReclaimed } }`,
        { labels: [`drydock-e2e-${ns}=none`] },
        bearer(token(who)),
      );
      expect(response.errors?.[0]?.extensions?.code).toBe(allowed ? undefined : 'FORBIDDEN');
      const audit = await gql(running.url, `{ auditLog(limit: 1) { id } }`, {}, bearer(token(who)));
      expect(audit.errors?.[0]?.extensions?.code).toBe(allowed ? undefined : 'FORBIDDEN');
    });

    it('lets a builder remove an image in its namespace and not in another', async () => {
      const mine = `team-a/${ns}:gql-remove`;
      docker('tag', source, mine);
      const remove = `mutation($ref: String!) { removeImage(ref: $ref) { untagged } }`;
      const refused = await gql(running.url, remove, { ref: mine }, bearer(token('builderB')));
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(exists(mine)).toBe(true);
      const done = await gql<{ removeImage: { untagged: string[] } }>(running.url, remove, { ref: mine }, bearer(token('builderA')));
      expect(done.data?.removeImage.untagged).toEqual([mine]);
    });
  });

  describe('without a valid token', () => {
    const wrong = 'ddk_' + 'x'.repeat(43);
    it.each<[string, Record<string, string>]>([
      ['no header', {}],
      ['an unknown token', bearer(wrong)],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
      ['a token in the wrong header', { 'x-api-key': 'whatever' }],
    ])('REST answers 401 UNAUTHENTICATED with %s', async (_what, headers) => {
      for (const [method, path] of [
        ['get', '/v1/images'],
        ['get', `/v1/images/${encodeURIComponent(testEnv.fixture)}`],
        ['post', '/v1/images/prune'],
        ['delete', `/v1/images/${encodeURIComponent(testEnv.fixture)}`],
        ['get', '/v1/registries'],
        ['put', '/v1/registries/localhost:5002/credential'],
        ['get', '/v1/audit'],
      ] as const) {
        const response = await request(running.url)[method](path).set(headers).send({}).expect(401);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(response.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      }
      expect(exists(testEnv.fixture)).toBe(true);
    });

    it.each<[string, Record<string, string>]>([
      ['no header', {}],
      ['an unknown token', bearer(wrong)],
    ])('GraphQL over HTTP answers 401 UNAUTHENTICATED with %s, queries and mutations alike', async (_what, headers) => {
      for (const query of ['{ images { id } }', 'mutation { pruneImages { spaceReclaimed } }', '{ __schema { queryType { name } } }']) {
        const response = await gql(running.url, query, {}, headers);
        expect(response.status).toBe(401);
        expect(response.data).toBeUndefined();
        expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    });

    it.each<[string, Record<string, unknown> | undefined]>([
      ['no payload', undefined],
      ['no authorization', { foo: 'bar' }],
      ['an unknown token', { authorization: `Bearer ${wrong}` }],
      ['a token without the scheme', { authorization: 'not-bearer' }],
      ['a non-string authorization', { authorization: 42 }],
    ])('graphql-ws closes the socket with 4401 for %s', async (_what, payload) => {
      await expect(wsHandshake(running.wsUrl, payload)).resolves.toMatchObject({ acked: false, code: 4401 });
    });

    it('graphql-ws acknowledges a valid token, and the subscription sees its principal', async () => {
      await expect(wsHandshake(running.wsUrl, bearer(token('viewer')))).resolves.toEqual({ acked: true });
      const client = wsClient(running.wsUrl, bearer(token('viewer')));
      try {
        const target = `team-a/${ns}:event`;
        const events = collect<{ action: string; reference: string | null }>(
          client,
          'subscription { imageEvents { action reference } }',
          {},
          (items) => items.some((item) => item.action === 'tag' && item.reference === target),
          30_000,
        );
        // The subscription is live once the server has it; tag until the event arrives.
        let done = false;
        void events.finally(() => (done = true));
        await eventually(async () => {
          if (done) return true;
          await api(running, token('builderA')).post(`/v1/images/${encodeURIComponent(source)}/tags`).send({ repository: `team-a/${ns}`, tag: 'event', force: true });
          await new Promise((resolve) => setTimeout(resolve, 300));
          return done ? true : undefined;
        }, 30_000, 'image event');
        await expect(events).resolves.toBeDefined();
      } finally {
        await client.dispose();
      }
    });
  });

  describe('public routes', () => {
    it('serves probes and the API documentation without a token', async () => {
      await request(running.url).get('/health/live').expect(200);
      await request(running.url).get('/health/ready').expect(200);
      const doc = await request(running.url).get('/docs-json').expect(200);
      expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.body.paths['/v1/images'].get.security).toEqual([{ bearer: [] }]);
      await request(running.url).get('/docs').expect((res) => expect([200, 301, 302]).toContain(res.status));
    });

    it('does not take a token a public route ignores as permission elsewhere', async () => {
      await request(running.url).get('/health/live').set(bearer('bogus')).expect(200);
      await request(running.url).get('/v1/images').set(bearer('bogus')).expect(401);
    });
  });

  describe('audit trail', () => {
    it('records who did what, to what, and how it ended, for REST and GraphQL, refusals included', async () => {
      const requestId = `audit-${ns}`;
      await api(running, token('builderA'))
        .post(`/v1/images/${encodeURIComponent(source)}/tags`)
        .set('x-request-id', requestId)
        .send({ repository: `team-b/${ns}`, tag: 'audited' })
        .expect(403);
      await api(running, token('builderA'))
        .post(`/v1/images/${encodeURIComponent(source)}/tags`)
        .set('x-request-id', `${requestId}-ok`)
        .send({ repository: `team-a/${ns}`, tag: 'audited' })
        .expect(201);
      await api(running, token('builderA')).delete(`/v1/images/${encodeURIComponent(`team-a/${ns}:absent`)}`).expect(404);
      await gql(running.url, `mutation { removeImage(ref: "team-a/${ns}:gql-absent") { untagged } }`, {}, bearer(token('builderA')));

      const entries = await eventually(async () => {
        const response = await api(running).get('/v1/audit?limit=50').expect(200);
        const list = response.body as Array<Record<string, string>>;
        return list.length >= 4 ? list : undefined;
      }, 5_000, 'audit entries');
      expect(entries).toContainEqual(
        expect.objectContaining({
          tokenName: 'builderA',
          team: 'team-a',
          role: 'builder',
          action: 'POST /v1/images/:ref/tags',
          target: `ref=${source} repository=team-b/${ns} tag=audited`,
          outcome: 'FORBIDDEN',
          requestId,
        }),
      );
      expect(entries).toContainEqual(expect.objectContaining({ requestId: `${requestId}-ok`, outcome: 'ok' }));
      expect(entries).toContainEqual(expect.objectContaining({ action: 'DELETE /v1/images/:ref', outcome: 'IMAGE_NOT_FOUND' }));
      expect(entries).toContainEqual(
        expect.objectContaining({ action: 'mutation removeImage', target: `ref=team-a/${ns}:gql-absent`, outcome: 'IMAGE_NOT_FOUND' }),
      );
      // Reads are not audited.
      expect(entries.some((entry) => entry['action']?.startsWith('GET '))).toBe(false);
      // Newest first, paged by id.
      const [newest, second] = entries;
      expect(Date.parse(newest?.['at'] ?? '')).toBeGreaterThanOrEqual(Date.parse(second?.['at'] ?? ''));
      const page = await api(running).get(`/v1/audit?limit=1&before=${newest?.['id']}`).expect(200);
      expect(page.body[0].id).toBe(second?.['id']);
      const viaGraphQL = await gql<{ auditLog: Array<{ tokenName: string; outcome: string }> }>(
        running.url,
        '{ auditLog(limit: 50) { tokenName outcome action target requestId at id team role } }',
        {},
        running.auth,
      );
      expect(viaGraphQL.data?.auditLog.length).toBeGreaterThanOrEqual(4);
      await api(running).get('/v1/audit?limit=0').expect(400);
      await api(running).get('/v1/audit?before=nonsense').expect(400);
    });
  });

  describe('mutation rate limit', () => {
    it('answers 429 RATE_LIMITED with Retry-After once a token spends its budget, on REST and GraphQL', async () => {
      // Fixed one-minute windows: start well inside one so the budget cannot reset mid-test.
      const intoWindow = Date.now() % 60_000;
      if (intoWindow > 50_000) await new Promise((resolve) => setTimeout(resolve, 61_000 - intoWindow));
      const limited = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '3' }, { tokens: TOKENS });
      try {
        const missing = `/v1/images/${encodeURIComponent(`team-a/${ns}:absent`)}`;
        for (let i = 0; i < 3; i++) await api(limited, limited.tokens['builderA']).delete(missing).expect(404);
        const refused = await api(limited, limited.tokens['builderA']).delete(missing).expect(429);
        expect(refused.body.code).toBe('RATE_LIMITED');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
        const overGraphQL = await gql(limited.url, `mutation { removeImage(ref: "team-a/${ns}:absent") { untagged } }`, {}, bearer(limited.tokens['builderA'] as string));
        expect(overGraphQL.status).toBe(429);
        expect(overGraphQL.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
        // Reads are not limited, and another token has its own budget.
        await api(limited, limited.tokens['builderA']).get('/v1/images').expect(200);
        await api(limited, limited.tokens['builderB']).delete(`/v1/images/${encodeURIComponent(`team-b/${ns}:absent`)}`).expect(404);
      } finally {
        await limited.close();
        await dropRedisKeys(limited.config.keyPrefix);
      }
    });
  });

  describe('tokens at start-up', () => {
    it('refuses to start on a bad tokens file, naming the file and the problem', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'drydock-e2e-tokens-'));
      const file = join(dir, 'tokens.json');
      writeFileSync(file, JSON.stringify([{ name: 'x', team: 't', role: 'superuser', namespaces: [], tokenSha256: 'a'.repeat(64) }]));
      await expect(startApp({ DRYDOCK_TOKENS_FILE: file })).rejects.toThrow(`tokens file ${file}: entry 1 field "role": expected one of viewer, builder, admin`);
      await expect(startApp({ DRYDOCK_TOKENS_FILE: join(dir, 'absent.json') })).rejects.toThrow(/DRYDOCK_TOKENS_FILE .*absent.json: cannot read it/);
    });

    it('without a tokens file makes one admin token, prints it once, keeps only its hash, and reuses it', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'drydock-e2e-first-'));
      const printed: string[] = [];
      const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
      let first: RunningApp | undefined;
      let second: RunningApp | undefined;
      try {
        first = await startApp({ DRYDOCK_DATA_DIR: dataDir }, { tokens: false });
        const made = /\n {2}(ddk_\S+)\n/.exec(printed.join(''))?.[1];
        expect(made).toBeDefined();
        expect(readFileSync(join(dataDir, 'tokens.json'), 'utf8')).not.toContain(made as string);
        await api(first, made).get('/v1/audit').expect(200);
        await first.close();
        first = undefined;

        printed.length = 0;
        second = await startApp({ DRYDOCK_DATA_DIR: dataDir }, { tokens: false });
        expect(printed.join('')).not.toMatch(/ddk_/);
        await api(second, made).get('/v1/audit').expect(200);
      } finally {
        write.mockRestore();
        await first?.close();
        await second?.close();
      }
    });
  });
});
