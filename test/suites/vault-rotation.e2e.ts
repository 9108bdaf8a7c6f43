import { redisKeyBase } from '@drydock/jobs';
import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { SecretBox } from '../../apps/api/src/app/registries/secret-box';
import { bearer, dropRedisKeys, startApp, type RunningApp, type TokenSpec } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';
import { api } from '../support/http';
import { waitForJob } from '../support/jobs';

const TOKENS: TokenSpec[] = [{ name: 'builder', team: 'team-a', role: 'builder', namespaces: [`${testEnv.authRegistry}/team-a/**`] }];
const hexKey = (): string => randomBytes(32).toString('hex');

/**
 * Key rotation across restarts: every app of this suite shares one key prefix
 * (one vault in Redis) and differs only in its keys, as a redeploy does.
 */
describe('vault key rotation', () => {
  const prefix = `e2e-vault-${randomUUID().slice(0, 8)}`;
  const ns = uniqueNamespace('rotate');
  const host = testEnv.authRegistry;
  const repository = `${host}/team-a/${ns}/app`;
  const field = `team-a/${host}`;
  const [keyA, keyB, keyC, keyD] = [hexKey(), hexKey(), hexKey(), hexKey()];
  let redis: Redis;
  let running: RunningApp | undefined;

  /** Restarts the app with these keys (the previous one closed first). */
  async function restart(current: string, previous?: string): Promise<RunningApp> {
    await running?.close();
    running = await startApp(
      { DRYDOCK_KEY_PREFIX: prefix, DRYDOCK_SECRET_KEY: current, ...(previous ? { DRYDOCK_SECRET_KEY_PREVIOUS: previous } : {}) },
      { tokens: TOKENS },
    );
    return running;
  }

  const sealed = async (): Promise<string> => (JSON.parse((await redis.hget(`${redisKeyBase(prefix)}:registry-credentials`, field)) ?? '{}') as { sealed: string }).sealed;
  const opensWith = async (key: string): Promise<boolean> => {
    try {
      SecretBox.fromHex(key).open(await sealed(), `drydock/registry-credential/v1\nteam-a\n${host}\n${testEnv.authUser}`);
      return true;
    } catch {
      return false;
    }
  };

  /** A push to the password-protected registry: only the stored credential lets it through. */
  async function push(app: RunningApp, tag: string): Promise<{ state: string; error: { code: string; message: string } | null }> {
    docker('tag', testEnv.fixture, `${repository}:${tag}`);
    const job = await api(app, app.tokens['builder']).post(`/v1/images/${encodeURIComponent(`${repository}:${tag}`)}/push`).send({}).expect(202);
    return waitForJob(app.url, app.tokens['builder'] as string, job.body.id as string);
  }

  beforeAll(async () => {
    redis = new Redis(testEnv.redisUrl);
    docker('pull', testEnv.fixture);
  });
  afterAll(async () => {
    await running?.close();
    await dropRedisKeys(prefix);
    redis.disconnect();
    removeImagesUnder(ns);
  });

  it('keeps a credential working across a key change with the old key as DRYDOCK_SECRET_KEY_PREVIOUS, and re-seals it on use', async () => {
    const first = await restart(keyA);
    await api(first).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password: testEnv.authPassword, team: 'team-a' }).expect(200);
    expect(await opensWith(keyA)).toBe(true);

    const rotated = await restart(keyB, keyA);
    const before = await request(rotated.url).get('/health/ready').expect(200);
    expect(before.body.vault).toEqual({ status: 'ok', unreadable: 0, stale: 1 });
    expect(await push(rotated, 'b')).toMatchObject({ state: 'SUCCEEDED' });
    // Used once, it was written back under the new key.
    expect(await opensWith(keyB)).toBe(true);
    expect(await opensWith(keyA)).toBe(false);
    const after = await request(rotated.url).get('/health/ready').expect(200);
    expect(after.body.vault).toEqual({ status: 'ok', unreadable: 0, stale: 0 });

    const newOnly = await restart(keyB);
    expect(await push(newOnly, 'b-only')).toMatchObject({ state: 'SUCCEEDED' });
    expect((await request(newOnly.url).get('/health/ready').expect(200)).body.vault).toEqual({ status: 'ok', unreadable: 0, stale: 0 });
  });

  it('re-seals everything on an admin call, over REST and GraphQL, and refuses it to others', async () => {
    const rotated = await restart(keyC, keyB);
    await api(rotated, rotated.tokens['builder']).post('/v1/registries/reseal').expect(403);
    const denied = await gql(rotated.url, 'mutation { resealRegistryCredentials { resealed unreadable } }', {}, bearer(rotated.tokens['builder'] as string));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await opensWith(keyB)).toBe(true);

    expect((await api(rotated).post('/v1/registries/reseal').expect(200)).body).toEqual({ resealed: 1, unreadable: 0 });
    expect(await opensWith(keyC)).toBe(true);
    const again = await gql<{ resealRegistryCredentials: unknown }>(rotated.url, 'mutation { resealRegistryCredentials { resealed unreadable } }', {}, rotated.auth);
    expect(again.data?.resealRegistryCredentials).toEqual({ resealed: 0, unreadable: 0 });
    expect((await api(rotated).get('/v1/audit?limit=20').expect(200)).body).toContainEqual(
      expect.objectContaining({ action: 'POST /v1/registries/reseal', outcome: 'ok' }),
    );
  });

  it('reports a credential sealed under neither key in readiness, without failing it, and the job says what to do', async () => {
    const lost = await restart(keyD);
    const ready = await request(lost.url).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', engine: { status: 'up' }, redis: { status: 'up' }, vault: { status: 'degraded', unreadable: 1 } });
    expect((await api(lost).post('/v1/registries/reseal').expect(200)).body).toEqual({ resealed: 0, unreadable: 1 });
    const failed = await push(lost, 'd');
    expect(failed).toMatchObject({ state: 'FAILED', error: { code: 'REGISTRY_UNAUTHORIZED' } });
    expect(failed.error?.message).toMatch(/DRYDOCK_SECRET_KEY_PREVIOUS/);

    // Storing it again under the current key clears the report.
    await api(lost).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password: testEnv.authPassword, team: 'team-a' }).expect(200);
    expect((await request(lost.url).get('/health/ready').expect(200)).body.vault).toEqual({ status: 'ok', unreadable: 0, stale: 0 });
  });
});
