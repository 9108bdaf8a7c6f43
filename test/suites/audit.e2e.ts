import { dropRedisKeys, bearer, startApp, type RunningApp, type TokenSpec } from '../support/app';
import { uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, gql, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { waitForJob } from '../support/jobs';

const TOKENS: TokenSpec[] = ['rest', 'http', 'ws', 'builder'].map((name) => ({
  name,
  team: 'team-a',
  role: 'builder' as const,
  namespaces: ['localhost:5001/team-a/**', 'team-a/*'],
}));

type Entry = Record<string, string | null>;

/**
 * The audit trail right now. Not polled after a request: an answered mutation
 * must already have its entry, so those reads follow their answer with no wait.
 */
async function trail(running: RunningApp): Promise<Entry[]> {
  return (await api(running).get('/v1/audit?limit=1000').expect(200)).body as Entry[];
}

describe('audit trail: refusals by the mutation rate limit', () => {
  const ns = uniqueNamespace('audit');
  let running: RunningApp;
  const token = (name: string): string => running.tokens[name] as string;

  beforeAll(async () => {
    // Fixed one-minute windows: start well inside one so no budget resets mid-suite.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 40_000) await new Promise((resolve) => setTimeout(resolve, 61_000 - intoWindow));
    running = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '2' }, { tokens: TOKENS });
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  it('records a REST mutation refused by the rate limit, before answering 429', async () => {
    const missing = `/v1/images/${encodeURIComponent(`team-a/${ns}:absent`)}`;
    for (let i = 0; i < 2; i++) await api(running, token('rest')).delete(missing).expect(404);
    await api(running, token('rest')).delete(missing).set('x-request-id', `${ns}-rest-429`).expect(429);
    expect(await trail(running)).toContainEqual(
      expect.objectContaining({
        tokenName: 'rest',
        team: 'team-a',
        action: 'DELETE /v1/images/:ref',
        target: `ref=team-a/${ns}:absent`,
        outcome: 'RATE_LIMITED',
        requestId: `${ns}-rest-429`,
      }),
    );
  });

  it('records a GraphQL mutation refused by the rate limit over HTTP, each of its fields once', async () => {
    const remove = `mutation { removeImage(ref: "team-a/${ns}:gql") { untagged } }`;
    for (let i = 0; i < 2; i++) await gql(running.url, remove, {}, bearer(token('http')));
    const refused = await gql(
      running.url,
      `mutation($ref: String!) { a: removeImage(ref: $ref) { untagged } b: removeImage(ref: $ref) { untagged } tagImage(source: "team-a/${ns}:x", repository: "team-a/${ns}", tag: "y") { id } }`,
      { ref: `team-a/${ns}:gql-refused` },
      { ...bearer(token('http')), 'x-request-id': `${ns}-http-429` },
    );
    expect(refused.status).toBe(429);
    const entries = (await trail(running)).filter((entry) => entry['requestId'] === `${ns}-http-429`);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tokenName: 'http', action: 'mutation removeImage', target: `ref=team-a/${ns}:gql-refused`, outcome: 'RATE_LIMITED' }),
        expect.objectContaining({ action: 'mutation tagImage', target: `repository=team-a/${ns} source=team-a/${ns}:x tag=y`, outcome: 'RATE_LIMITED' }),
      ]),
    );
    expect(entries).toHaveLength(2);
  });

  it('records a GraphQL mutation refused by the rate limit over graphql-ws', async () => {
    const client = wsClient(running.wsUrl, bearer(token('ws')));
    try {
      const remove = `mutation { removeImage(ref: "team-a/${ns}:ws") { untagged } }`;
      const once = (): Promise<unknown> => collect(client, remove, {}, () => true).then(() => 'ok', (error: Error) => error.message);
      expect(await once()).toMatch(/IMAGE_NOT_FOUND/);
      expect(await once()).toMatch(/IMAGE_NOT_FOUND/);
      expect(await once()).toMatch(/RATE_LIMITED/);
    } finally {
      await client.dispose();
    }
    expect(await trail(running)).toContainEqual(
      expect.objectContaining({ tokenName: 'ws', action: 'mutation removeImage', target: `ref=team-a/${ns}:ws`, outcome: 'RATE_LIMITED' }),
    );
  });

});

describe('audit trail: jobs and prune', () => {
  const ns = uniqueNamespace('audit');
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({}, { tokens: TOKENS });
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  it('records how each job ended: its id, type, team, owner and outcome', async () => {
    const good = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture }).expect(202);
    const bad = await api(running).post('/v1/images/pull').send({ reference: `localhost:5001/team-a/${ns}/absent:1` }).expect(202);
    const ended = await waitForJob(running.url, running.token, good.body.id as string);
    const failed = await waitForJob(running.url, running.token, bad.body.id as string);
    expect(ended.state).toBe('SUCCEEDED');
    expect(failed.state).toBe('FAILED');
    // No answer to wait on here: the worker writes the entry just after the record shows the end.
    const entries = await eventually(async () => {
      const all = await trail(running);
      return all.filter((entry) => entry['action'] === 'job PULL').length >= 2 ? all : undefined;
    }, 5_000, 'both job entries');
    expect(entries).toContainEqual(
      expect.objectContaining({
        tokenName: 'admin',
        team: 'ops',
        action: 'job PULL',
        target: `jobId=${ended.id} state=SUCCEEDED reference=${testEnv.fixture}`,
        outcome: 'ok',
        requestId: null,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ action: 'job PULL', target: expect.stringContaining(`jobId=${failed.id} state=FAILED`), outcome: failed.error?.code }),
    );
  });

  it('records a cancelled job with the way it ended', async () => {
    // The cancel races the worker: whichever wins, the trail must say what the record says.
    const job = await api(running).post('/v1/images/pull').send({ reference: `localhost:5001/team-a/${ns}/cancel:1` }).expect(202);
    const answer = await api(running).delete(`/v1/jobs/${job.body.id as string}`);
    const ended = await waitForJob(running.url, running.token, job.body.id as string);
    const entry = await eventually(
      async () => (await trail(running)).find((e) => e['action'] === 'job PULL' && e['target']?.startsWith(`jobId=${ended.id} `)),
      5_000,
      'the job entry',
    );
    expect(answer.status).toBeLessThan(500);
    expect(entry?.['outcome']).toBe(ended.state === 'CANCELLED' ? 'CANCELLED' : ended.error?.code);
  });

  it('records a mutation refused for its body before any handler ran', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    await api(running).post('/v1/images/pull').set('x-request-id', `${ns}-deep`).send({ reference: 'team-a/x:1', platform: deep }).expect(400);
    expect(await trail(running)).toContainEqual(
      expect.objectContaining({ action: 'POST /v1/images/pull', target: 'reference=team-a/x:1', outcome: 'VALIDATION_FAILED', requestId: `${ns}-deep` }),
    );
  });

  it("records prune's filters, over REST and GraphQL", async () => {
    // A label nothing carries: the shared engine loses nothing to this test.
    const label = `drydock.audit-e2e=${ns}`;
    await api(running).post('/v1/images/prune').set('x-request-id', `${ns}-prune`).send({ dangling: false, until: '87600h', labels: [label] }).expect(200);
    const overGraphQL = await gql(
      running.url,
      'mutation($input: PruneImagesInput) { pruneImages(input: $input) { spaceReclaimed } }',
      { input: { dangling: true, labels: [label, 'other'] } },
      running.auth,
    );
    expect(overGraphQL.errors).toBeUndefined();
    const entries = await trail(running);
    expect(entries).toContainEqual(
      expect.objectContaining({ action: 'POST /v1/images/prune', target: `dangling=false until=87600h labels=${label}`, outcome: 'ok', requestId: `${ns}-prune` }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ action: 'mutation pruneImages', target: `input.dangling=true input.labels=${label},other`, outcome: 'ok' }),
    );
  });
});
