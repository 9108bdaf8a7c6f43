import { redisKeyBase } from '@drydock/jobs';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { DockerEngine, type EngineMessage } from '@drydock/docker';
import { RegistryCredentials } from '../../apps/api/src/app/registries/registry-credentials.service';
import { bearer, dropRedisKeys, startApp, type RunningApp, type TokenSpec } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';
import { api } from '../support/http';
import { captureOutput, dumpRedis, keepAnswers } from '../support/leaks';

const TOKENS: TokenSpec[] = [
  { name: 'viewer-a', team: 'team-a', role: 'viewer' },
  { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['localhost:5002/team-a/**'] },
  { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: ['localhost:5002/team-b/**'] },
];

async function drain(stream: AsyncGenerator<EngineMessage>): Promise<void> {
  // Progress only; a failure inside the stream is thrown.
  while (!(await stream.next()).done);
}

describe('registry credential vault', () => {
  const password = testEnv.authPassword;
  const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
  const host = testEnv.authRegistry;
  const ns = uniqueNamespace('vault');
  const output = captureOutput();
  const { seen, all: answers } = keepAnswers();
  let running: RunningApp;
  let redis: Redis;

  const token = (name: string): string => running.tokens[name] as string;

  beforeAll(async () => {
    running = await startApp({ LOG_LEVEL: 'trace' }, { tokens: TOKENS });
    redis = new Redis(testEnv.redisUrl);
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
    redis.disconnect();
    output.restore();
    removeImagesUnder(ns);
  });

  it('stores a credential checked against the registry and lists host and username only', async () => {
    const stored = seen(
      await api(running).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password, team: 'team-a' }).expect(200),
    );
    expect(stored.body).toEqual({ host, username: testEnv.authUser, team: 'team-a', updatedAt: expect.any(String), updatedBy: 'admin' });

    const listed = seen(await api(running, token('viewer-a')).get('/v1/registries').expect(200));
    expect(listed.body).toEqual([{ host, username: testEnv.authUser, team: 'team-a', updatedAt: stored.body.updatedAt, updatedBy: 'admin' }]);
    // Another team sees none of it; an admin sees every team's.
    expect(seen(await api(running, token('builder-b')).get('/v1/registries').expect(200)).body).toEqual([]);
    expect(seen(await api(running).get('/v1/registries').expect(200)).body).toContainEqual(expect.objectContaining({ host, team: 'team-a' }));
    const overGraphQL = seen(await gql<{ registries: unknown[] }>(running.url, '{ registries { host username team updatedAt updatedBy } }', {}, bearer(token('viewer-a'))));
    expect(overGraphQL.data?.registries).toEqual([{ host, username: testEnv.authUser, team: 'team-a', updatedAt: stored.body.updatedAt, updatedBy: 'admin' }]);
  });

  it('refuses a wrong password at PUT time with 422 REGISTRY_UNAUTHORIZED, the caller\'s error rather than a registry failure, and stores nothing', async () => {
    const refused = seen(
      await api(running).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password: wrongPassword, team: 'team-b' }).expect(422),
    );
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(seen(await api(running, token('builder-b')).get('/v1/registries').expect(200)).body).toEqual([]);
    const vault = running.app.get(RegistryCredentials);
    expect(await vault.credentialFor('team-b', host)).toBeNull();

    const overGraphQL = seen(
      await gql(
        running.url,
        'mutation($input: RegistryCredentialInput!) { setRegistryCredential(input: $input) { host } }',
        { input: { registry: host, username: testEnv.authUser, password: wrongPassword, team: 'team-b' } },
        running.auth,
      ),
    );
    expect(overGraphQL.errors?.[0]?.extensions?.code).toBe('REGISTRY_UNAUTHORIZED');
    expect((overGraphQL.errors?.[0]?.extensions as { status?: number } | undefined)?.status).toBe(422);
    expect(await vault.credentialFor('team-b', host)).toBeNull();
    // Replacing a good credential with a bad one keeps the good one.
    seen(await api(running).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password: wrongPassword, team: 'team-a' }).expect(422));
    expect((await vault.credentialFor('team-a', host))?.password).toBe(password);
  });

  it('lets only admins store or remove credentials', async () => {
    for (const name of ['viewer-a', 'builder-a']) {
      const refused = seen(
        await api(running, token(name)).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password }).expect(403),
      );
      expect(refused.body.code).toBe('FORBIDDEN');
      seen(await api(running, token(name)).delete(`/v1/registries/${encodeURIComponent(host)}/credential`).expect(403));
      const mutation = seen(await gql(running.url, `mutation { removeRegistryCredential(registry: "${host}") }`, {}, bearer(token(name))));
      expect(mutation.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['a host that is not one', 'not a host!', { username: 'u', password: 'p' }],
    ['no password', host, { username: 'u' }],
    ['an empty password', host, { username: 'u', password: '' }],
    ['a password that is not a string', host, { username: 'u', password: 12345 }],
    ['a control character', host, { username: 'u\n', password: 'p' }],
    ['an unknown field', host, { username: 'u', password: 'p', email: 'x@y' }],
    ['a bad team', host, { username: 'u', password: 'p', team: '../x' }],
  ])('refuses %s with 400 before calling the registry', async (_what, hostParam, body) => {
    const refused = seen(await api(running).put(`/v1/registries/${encodeURIComponent(hostParam)}/credential`).send(body).expect(400));
    expect(refused.body.code).toBe('VALIDATION_FAILED');
  });

  it('hands a job the decrypted credential for its team: push a private image with it, pull it back', async () => {
    const vault = running.app.get(RegistryCredentials);
    const engine = running.app.get(DockerEngine);
    const credential = await vault.credentialForReference('team-a', `${host}/team-a/${ns}/app:1`);
    expect(credential).toEqual({ username: testEnv.authUser, password, serveraddress: host });
    expect(await vault.credentialFor('team-b', host)).toBeNull();

    docker('pull', testEnv.fixture);
    const repository = `${host}/team-a/${ns}/app`;
    docker('tag', testEnv.fixture, `${repository}:1`);
    await expect(drain(engine.images.push(repository, '1'))).rejects.toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    await drain(engine.images.push(repository, '1', { auth: credential ?? undefined }));
    docker('rmi', `${repository}:1`);
    await drain(engine.images.pull(repository, '1', { auth: credential ?? undefined }));
    expect(docker('image', 'inspect', '--format', '{{.Id}}', `${repository}:1`)).toMatch(/^sha256:/);
  });

  it('stores per team and removes idempotently, over REST and GraphQL', async () => {
    const set = seen(
      await gql<{ setRegistryCredential: Record<string, string> }>(
        running.url,
        'mutation($input: RegistryCredentialInput!) { setRegistryCredential(input: $input) { host username team updatedBy } }',
        { input: { registry: host, username: testEnv.authUser, password } },
        running.auth,
      ),
    );
    expect(set.data?.setRegistryCredential).toEqual({ host, username: testEnv.authUser, team: 'ops', updatedBy: 'admin' });
    expect(seen(await api(running).get('/v1/registries').expect(200)).body.map((r: { team: string }) => r.team)).toEqual(['ops', 'team-a']);

    const removed = seen(await gql<{ removeRegistryCredential: boolean }>(running.url, `mutation { removeRegistryCredential(registry: "${host}") }`, {}, running.auth));
    expect(removed.data?.removeRegistryCredential).toBe(true);
    const again = seen(await gql<{ removeRegistryCredential: boolean }>(running.url, `mutation { removeRegistryCredential(registry: "${host}") }`, {}, running.auth));
    expect(again.data?.removeRegistryCredential).toBe(false);

    seen(await api(running).delete(`/v1/registries/${encodeURIComponent(host)}/credential?team=team-a`).expect(204));
    seen(await api(running).delete(`/v1/registries/${encodeURIComponent(host)}/credential?team=team-a`).expect(204));
    expect(seen(await api(running).get('/v1/registries').expect(200)).body).toEqual([]);
    expect(await running.app.get(RegistryCredentials).credentialFor('team-a', host)).toBeNull();

    // Left stored for the Redis check below.
    seen(await api(running).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password, team: 'team-a' }).expect(200));
  });

  it('audits credential changes by host and username, never by password', async () => {
    const audit = seen(await api(running).get('/v1/audit?limit=200').expect(200));
    expect(audit.body).toContainEqual(
      expect.objectContaining({ action: 'PUT /v1/registries/:host/credential', target: `host=${host} username=${testEnv.authUser} team=team-a`, outcome: 'ok' }),
    );
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'PUT /v1/registries/:host/credential', outcome: 'REGISTRY_UNAUTHORIZED' }));
    expect(audit.body).toContainEqual(expect.objectContaining({ action: 'mutation setRegistryCredential', outcome: 'ok' }));
  });

  it('leaves the password nowhere: not in any answer, any Redis value, or any log line', async () => {
    const secrets = [password, wrongPassword, Buffer.from(password).toString('base64'), Buffer.from(`${testEnv.authUser}:${password}`).toString('base64')];
    expect(answers.length).toBeGreaterThan(30);
    const everyAnswer = answers.join('\n');
    for (const secret of secrets) expect(everyAnswer).not.toContain(secret);

    const dump = await dumpRedis(redis, running.config.keyPrefix);
    const vaultKey = `${redisKeyBase(running.config.keyPrefix)}:registry-credentials`;
    expect(dump.get(vaultKey)).toContain(testEnv.authUser);
    expect(dump.size).toBeGreaterThan(1);
    for (const [key, value] of dump) {
      for (const secret of secrets) {
        if (value.includes(secret)) throw new Error(`Redis key ${key} holds a secret`);
      }
    }

    const logs = output.text();
    // The capture works (pino at trace logs every request), so an absence means something.
    expect(logs).toContain('/v1/registries');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
