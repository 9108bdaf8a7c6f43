import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@drydock/core';
import { redisKeyBase } from '@drydock/jobs';
import Redis from 'ioredis';
import type { Principal } from '../auth/principal';
import { loadConfig } from '../config/config';
import { BuildSecrets, SECRET_MAX_BYTES } from './build-secrets.service';

/** The test Redis of `scripts/services.sh test`: sealing is about what lands in Redis, so these read it back. */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6391';

const admin: Principal = { name: 'root', team: 'ops', role: 'admin', namespaces: [] };
const plaintext = `s3cr3t-${randomBytes(16).toString('hex')}-ünïcødé`;

describe('BuildSecrets', () => {
  const prefix = `drydock-unit-secrets-${randomUUID()}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-secrets-'));
  const keyA = randomBytes(32).toString('hex');
  const keyB = randomBytes(32).toString('hex');

  function store(env: Record<string, string> = {}): BuildSecrets {
    const config = loadConfig({ REDIS_URL, DRYDOCK_KEY_PREFIX: prefix, DRYDOCK_DATA_DIR: dataDir, DRYDOCK_SECRET_KEY: keyA, ...env });
    const secrets = new BuildSecrets(config, redis);
    secrets.onModuleInit();
    return secrets;
  }

  afterAll(async () => {
    const keys = await redis.keys(`${redisKeyBase(prefix)}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps only a sealed value in Redis, bound to its team and id, and hands the worker the plaintext bytes', async () => {
    const secrets = store();
    const stored = await secrets.set(admin, { id: 'npm-token', value: plaintext, team: 'team-a' });
    expect(stored).toEqual({ id: 'npm-token', team: 'team-a', updatedAt: expect.any(String), updatedBy: 'root' });

    const sealed = (await redis.hget(secrets.valuesKey('team-a'), 'npm-token')) as string;
    expect(sealed).toMatch(/^v1\./);
    for (const form of [plaintext, Buffer.from(plaintext).toString('base64'), Buffer.from(plaintext).toString('base64url'), 's3cr3t']) {
      expect(sealed).not.toContain(form);
      expect(JSON.stringify(await redis.hgetall(secrets.metaKey('team-a')))).not.toContain(form);
    }
    expect((await secrets.secretFor('team-a', 'npm-token'))?.toString('utf8')).toBe(plaintext);
    expect(await secrets.secretFor('team-b', 'npm-token')).toBeNull();

    // Copied into another team's slot, it does not open there.
    await redis.hset(secrets.valuesKey('team-b'), 'npm-token', sealed);
    await expect(secrets.secretFor('team-b', 'npm-token')).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED });
    await redis.del(secrets.valuesKey('team-b'));
  });

  it('opens what the previous key sealed after a rotation, and seals it again under the new key', async () => {
    await store().set(admin, { id: 'rotated', value: plaintext, team: 'team-r' });
    await store().set(admin, { id: 'rotated-2', value: plaintext, team: 'team-r' });
    const newKeyOnly = store({ DRYDOCK_SECRET_KEY: keyB });
    await expect(newKeyOnly.secretFor('team-r', 'rotated')).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED });

    const rotating = store({ DRYDOCK_SECRET_KEY: keyB, DRYDOCK_SECRET_KEY_PREVIOUS: keyA });
    expect((await rotating.secretFor('team-r', 'rotated'))?.toString('utf8')).toBe(plaintext);
    // Read once, now sealed under the new key: the previous key can go.
    expect((await newKeyOnly.secretFor('team-r', 'rotated'))?.toString('utf8')).toBe(plaintext);
    await expect(newKeyOnly.secretFor('team-r', 'rotated-2')).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED });

    const result = await rotating.reseal();
    expect(result.resealed).toBeGreaterThanOrEqual(1);
    expect((await newKeyOnly.secretFor('team-r', 'rotated-2'))?.toString('utf8')).toBe(plaintext);
    expect(await store({ DRYDOCK_SECRET_KEY: keyB }).reseal()).toEqual({ resealed: 0, unreadable: 0 });
  });

  it('takes values up to BuildKit\'s 500 KiB counted in UTF-8 bytes, and refuses one byte more with PAYLOAD_TOO_LARGE', async () => {
    const secrets = store();
    await secrets.set(admin, { id: 'big', value: 'x'.repeat(SECRET_MAX_BYTES), team: 'team-s' });
    // 'é' is two bytes: under the cap in characters, over it in bytes.
    await expect(secrets.set(admin, { id: 'wide', value: 'é'.repeat(SECRET_MAX_BYTES / 2 + 1), team: 'team-s' })).rejects.toMatchObject({
      code: ErrorCode.PAYLOAD_TOO_LARGE,
    });
    expect(await secrets.exists('team-s', ['big', 'wide'])).toEqual(['wide']);
  });

  it('refuses ids outside the grammar with VALIDATION_FAILED, and finds no secret under one', async () => {
    const secrets = store();
    for (const id of ['', '-lead', '../x', 'a/b', 'a'.repeat(129), 'sp ace', 'a:b']) {
      await expect(secrets.set(admin, { id, value: 'v' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    }
    await secrets.set(admin, { id: `A${'b'.repeat(127)}`, value: 'v' });
    expect(await secrets.secretFor('ops', '../x')).toBeNull();
  });

  it('holds a team to DRYDOCK_TEAM_MAX_SECRETS even under concurrent writes, and still lets it replace one', async () => {
    const secrets = store({ DRYDOCK_TEAM_MAX_SECRETS: '5' });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => secrets.set(admin, { id: `q${i}`, value: 'v', team: 'team-q' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    for (const refused of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(refused.reason).toMatchObject({ code: ErrorCode.QUOTA_EXCEEDED });
    }
    expect(await redis.hlen(secrets.valuesKey('team-q'))).toBe(5);
    const kept = (await secrets.list('team-q'))[0]?.id as string;
    await secrets.set(admin, { id: kept, value: 'replaced', team: 'team-q' });
    expect((await secrets.secretFor('team-q', kept))?.toString()).toBe('replaced');
    // Another team has its own quota.
    await secrets.set(admin, { id: 'q0', value: 'v', team: 'team-q2' });
  });

  it('removes a secret with its metadata, and answers SECRET_NOT_FOUND for one that is not there', async () => {
    const secrets = store();
    await secrets.set(admin, { id: 'gone', value: 'v', team: 'team-d' });
    expect((await secrets.list()).map((s) => `${s.team}/${s.id}`)).toContain('team-d/gone');
    await secrets.remove(admin, 'gone', 'team-d');
    await expect(secrets.remove(admin, 'gone', 'team-d')).rejects.toMatchObject({ code: ErrorCode.SECRET_NOT_FOUND });
    expect(await secrets.secretFor('team-d', 'gone')).toBeNull();
    expect(await secrets.exists('team-d', ['gone', 'gone'])).toEqual(['gone']);
    // The team's last secret gone, the team leaves the index.
    expect(await redis.sismember(secrets.teamsKey, 'team-d')).toBe(0);
  });
});
