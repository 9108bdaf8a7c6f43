import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { BuildSecrets } from '../../apps/api/src/app/secrets/build-secrets.service';
import { BUILD_SECRET_SOURCE } from '../../apps/api/src/app/jobs/jobs.tokens';
import { redisKeyBase, type BuildSecretSource } from '@drydock/jobs';
import { bearer, dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';
import { api } from '../support/http';
import { execFileSync } from 'node:child_process';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { readSse, waitForJob } from '../support/jobs';
import { captureOutput, dumpRedis, keepAnswers } from '../support/leaks';
import { expectProblem } from '../support/problem';

const KIB = 1024;

describe('build secrets', () => {
  const value = `npm_${randomBytes(24).toString('hex')}`;
  const replaced = `npm_${randomBytes(24).toString('hex')}`;
  /** A value, a piece of it and its base64 forms: none may show up anywhere but in the build's RUN step. */
  const forms = [value, replaced].flatMap((secret) => [secret, secret.slice(4, 28), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url')]);
  const ns = uniqueNamespace('e2e-secret-build');
  const output = captureOutput();
  const { seen, add: keep, all: answers } = keepAnswers();
  let running: RunningApp;
  let redis: Redis;

  const token = (name: string): string => running.tokens[name] as string;

  beforeAll(async () => {
    running = await startApp(
      { LOG_LEVEL: 'trace', DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      {
        tokens: [
          { name: 'viewer-a', team: 'team-a', role: 'viewer' },
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['team-a/**'] },
        ],
      },
    );
    redis = new Redis(testEnv.redisUrl);
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
    redis.disconnect();
    output.restore();
    removeImagesUnder(ns);
  });

  it('stores a secret for a team and lists its id, team and update time, never its value', async () => {
    const stored = seen(await api(running).put('/v1/secrets/npm-token').send({ value, team: 'team-a' }).expect(200));
    expect(stored.body).toEqual({ id: 'npm-token', team: 'team-a', updatedAt: expect.any(String), updatedBy: 'admin' });

    const listed = seen(await api(running).get('/v1/secrets').expect(200));
    expect(listed.body).toEqual([stored.body]);
    expect(seen(await api(running).get('/v1/secrets?team=team-b').expect(200)).body).toEqual([]);
    const overGraphQL = seen(await gql<{ buildSecrets: unknown[] }>(running.url, '{ buildSecrets { id team updatedAt updatedBy } }', {}, running.auth));
    expect(overGraphQL.data?.buildSecrets).toEqual([stored.body]);
    expect((await running.app.get<string, BuildSecretSource>(BUILD_SECRET_SOURCE).secretFor('team-a', 'npm-token'))?.toString()).toBe(value);
  });

  it("replaces a secret in place, and defaults to the admin token's team", async () => {
    const before = seen(await api(running).get('/v1/secrets').expect(200)).body[0];
    const again = seen(await api(running).put('/v1/secrets/npm-token').send({ value: replaced, team: 'team-a' }).expect(200));
    expect(again.body.updatedAt >= before.updatedAt).toBe(true);
    const secrets = running.app.get(BuildSecrets);
    expect((await secrets.secretFor('team-a', 'npm-token'))?.toString()).toBe(replaced);

    const own = seen(
      await gql<{ setBuildSecret: Record<string, string> }>(
        running.url,
        'mutation($input: BuildSecretInput!) { setBuildSecret(input: $input) { id team updatedBy } }',
        { input: { id: 'ops.key_1', value } },
        running.auth,
      ),
    );
    expect(own.data?.setBuildSecret).toEqual({ id: 'ops.key_1', team: 'ops', updatedBy: 'admin' });
    expect(seen(await api(running).get('/v1/secrets').expect(200)).body.map((s: { team: string; id: string }) => `${s.team}/${s.id}`)).toEqual([
      'ops/ops.key_1',
      'team-a/npm-token',
    ]);
    expect(await secrets.exists('team-a', ['npm-token', 'ops.key_1'])).toEqual(['ops.key_1']);
  });

  it('lets only admins list, store or remove secrets', async () => {
    expectProblem(seen(await api(running, 'not-a-token').put('/v1/secrets/npm-token').send({ value: 'x' })), 401, 'UNAUTHENTICATED');
    for (const name of ['viewer-a', 'builder-a']) {
      expectProblem(seen(await api(running, token(name)).get('/v1/secrets')), 403, 'FORBIDDEN');
      expectProblem(seen(await api(running, token(name)).put('/v1/secrets/npm-token').send({ value: 'x' })), 403, 'FORBIDDEN');
      expectProblem(seen(await api(running, token(name)).delete('/v1/secrets/npm-token')), 403, 'FORBIDDEN');
      const query = seen(await gql(running.url, '{ buildSecrets { id } }', {}, bearer(token(name))));
      expect(query.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const mutation = seen(await gql(running.url, 'mutation { removeBuildSecret(id: "npm-token", team: "team-a") }', {}, bearer(token(name))));
      expect(mutation.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await running.app.get(BuildSecrets).secretFor('team-a', 'npm-token'))?.toString()).toBe(replaced);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['an id outside the grammar', encodeURIComponent('../etc'), { value: 'v' }],
    ['an id that starts with a dot', '.hidden', { value: 'v' }],
    ['an id over 128 characters', 'a'.repeat(129), { value: 'v' }],
    ['no value', 'ok-id', {}],
    ['a value that is not a string', 'ok-id', { value: 12345 }],
    ['a bad team', 'ok-id', { value: 'v', team: '../x' }],
    ['an unknown field', 'ok-id', { value: 'v', encoding: 'base64' }],
  ])('refuses %s with 400 VALIDATION_FAILED and stores nothing', async (_what, id, body) => {
    expectProblem(seen(await api(running).put(`/v1/secrets/${id}`).send(body)), 400, 'VALIDATION_FAILED');
    expect(await running.app.get(BuildSecrets).exists('ops', ['ok-id'])).toEqual(['ok-id']);
  });

  it("refuses a value over BuildKit's 500 KiB with 413 PAYLOAD_TOO_LARGE, over REST and GraphQL, and takes one at the limit", async () => {
    const over = 'x'.repeat(500 * KIB + 1);
    expectProblem(seen(await api(running).put('/v1/secrets/big').send({ value: over, team: 'team-a' })), 413, 'PAYLOAD_TOO_LARGE');
    const overGraphQL = await gql(running.url, 'mutation($input: BuildSecretInput!) { setBuildSecret(input: $input) { id } }', { input: { id: 'big', value: over } }, running.auth);
    expect(overGraphQL.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await running.app.get(BuildSecrets).exists('team-a', ['big'])).toEqual(['big']);
    seen(await api(running).put('/v1/secrets/big').send({ value: 'y'.repeat(500 * KIB), team: 'team-a' }).expect(200));
    expect((await running.app.get(BuildSecrets).secretFor('team-a', 'big'))?.length).toBe(500 * KIB);
    seen(await api(running).delete('/v1/secrets/big?team=team-a').expect(204));
  });

  it('refuses a 101st secret of a team with 409 QUOTA_EXCEEDED, even when the PUTs race, while other teams keep theirs', async () => {
    const puts = await Promise.all(Array.from({ length: 101 }, (_, i) => api(running).put(`/v1/secrets/q-${i}`).send({ value: 'v', team: 'team-q' })));
    expect(puts.filter((res) => res.status === 200)).toHaveLength(100);
    const refused = puts.filter((res) => res.status !== 200);
    expect(refused).toHaveLength(1);
    expectProblem(refused[0] as Response, 409, 'QUOTA_EXCEEDED');
    expect(seen(await api(running).get('/v1/secrets?team=team-q').expect(200)).body).toHaveLength(100);
    // Replacing one at the quota is no new secret; after a removal there is room again.
    seen(await api(running).put('/v1/secrets/q-0').send({ value: 'w', team: 'team-q' }).expect(200));
    const missing = puts.findIndex((res) => res.status !== 200);
    seen(await api(running).delete(`/v1/secrets/q-${missing === 0 ? 1 : 0}?team=team-q`).expect(204));
    seen(await api(running).put(`/v1/secrets/q-${missing}`).send({ value: 'v', team: 'team-q' }).expect(200));
    seen(await api(running).put('/v1/secrets/other').send({ value: 'v', team: 'team-r' }).expect(200));
  });

  it('removes a secret, and answers 404 SECRET_NOT_FOUND for one that is not there, over REST and GraphQL', async () => {
    seen(await api(running).delete('/v1/secrets/npm-token?team=team-a').expect(204));
    expectProblem(seen(await api(running).delete('/v1/secrets/npm-token?team=team-a')), 404, 'SECRET_NOT_FOUND');
    expect(await running.app.get(BuildSecrets).secretFor('team-a', 'npm-token')).toBeNull();

    const removed = seen(await gql<{ removeBuildSecret: boolean }>(running.url, 'mutation { removeBuildSecret(id: "ops.key_1") }', {}, running.auth));
    expect(removed.data?.removeBuildSecret).toBe(true);
    const again = seen(await gql(running.url, 'mutation { removeBuildSecret(id: "ops.key_1") }', {}, running.auth));
    expect(again.errors?.[0]?.extensions?.code).toBe('SECRET_NOT_FOUND');

    // Left stored for the Redis check below.
    seen(await api(running).put('/v1/secrets/npm-token').send({ value, team: 'team-a' }).expect(200));
  });

  it('audits secret changes by id and team, never by value', async () => {
    const audit = seen(await api(running).get('/v1/audit?limit=1000').expect(200));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'PUT /v1/secrets/:id', target: 'id=npm-token team=team-a', outcome: 'ok' }));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'PUT /v1/secrets/:id', outcome: 'PAYLOAD_TOO_LARGE' }));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'DELETE /v1/secrets/:id', target: 'id=npm-token team=team-a', outcome: 'SECRET_NOT_FOUND' }));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'mutation setBuildSecret', target: 'input.id=ops.key_1', outcome: 'ok' }));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'PUT /v1/secrets/:id', outcome: 'FORBIDDEN' }));
  });

  it('mounts a secret in a BuildKit RUN step, readable there, and leaves its bytes in no layer, history, job or event', async () => {
    const tag = `team-a/${ns}:1`;
    const dockerfile = `FROM ${testEnv.fixture}\nRUN --mount=type=secret,id=npm-token,required echo "length=$(cat /run/secrets/npm-token | wc -c | tr -d ' ')"`;
    const builder = token('builder-a');
    const accepted = seen(await api(running, builder).post('/v1/builds').send({ dockerfile, tags: [tag], secrets: ['npm-token'], noCache: true }).expect(202));
    expect(accepted.body.request).not.toHaveProperty('secretValues');
    const job = await waitForJob(running.url, builder, accepted.body.id);
    const { events } = await readSse(running.url, builder, accepted.body.id);
    keep(JSON.stringify(job), JSON.stringify(events));
    expect(job.state).toBe('SUCCEEDED');
    expect(events.map((event) => event.message)).toContainEqual(expect.stringMatching(new RegExp(`^#\\d+ length=${Buffer.byteLength(value)}$`)));

    const history = docker('history', '--no-trunc', tag);
    const saved = execFileSync('/usr/bin/docker', ['save', tag], { maxBuffer: 256 * 1024 * 1024 });
    expect(saved.length).toBeGreaterThan(100_000);
    for (const form of forms) {
      expect(history).not.toContain(form);
      expect(saved.includes(form)).toBe(false);
    }
  });

  it('refuses a build naming a secret its team does not have, 404 SECRET_NOT_FOUND, before anything is queued', async () => {
    const refused = seen(
      await api(running, token('builder-a')).post('/v1/builds').send({ dockerfile: `FROM ${testEnv.fixture}\n`, tags: [`team-a/${ns}:2`], secrets: ['no-such-secret'] }),
    );
    expectProblem(refused, 404, 'SECRET_NOT_FOUND');
    expect(refused.body.detail).toContain('no-such-secret');
  });

  it('documents the endpoints in the OpenAPI document, the value as write-only', async () => {
    const doc = seen(await api(running).get('/docs-json').expect(200));
    expect(Object.keys(doc.body.paths['/v1/secrets'])).toEqual(expect.arrayContaining(['get']));
    expect(Object.keys(doc.body.paths['/v1/secrets/{id}'])).toEqual(expect.arrayContaining(['put', 'delete']));
    expect(doc.body.components.schemas.BuildSecretBody.properties.value).toMatchObject({ writeOnly: true });
    expect(doc.body.components.schemas.BuildSecret.properties.value).toBeUndefined();
  });

  it('leaves the values nowhere: not in any answer, any Redis key or value, the audit trail, or any log line', async () => {
    expect(answers.length).toBeGreaterThan(30);
    const everyAnswer = answers.join('\n');
    for (const form of forms) expect(everyAnswer).not.toContain(form);

    const dump = await dumpRedis(redis, running.config.keyPrefix);
    expect(dump.get(`${redisKeyBase(running.config.keyPrefix)}:build-secrets:values:team-a`)).toContain('npm-token');
    expect([...dump.keys()].some((key) => key.includes(':audit'))).toBe(true);
    for (const [key, stored] of dump) {
      for (const form of forms) {
        if (key.includes(form) || stored.includes(form)) throw new Error(`Redis key ${key} holds a secret value`);
      }
    }

    const logs = output.text();
    // The capture works (pino at trace logs every request), so an absence means something.
    expect(logs).toContain('/v1/secrets');
    for (const form of forms) expect(logs).not.toContain(form);
  });
});
