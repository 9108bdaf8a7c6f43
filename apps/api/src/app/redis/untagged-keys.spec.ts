import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { carryOverUntaggedKeys } from './untagged-keys';

/** The test Redis of `scripts/services.sh test`. */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6391';

describe('carryOverUntaggedKeys', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `drydock-unit-untagged-${randomUUID()}`;
  const logger = { log: jest.fn(), warn: jest.fn() };

  afterAll(async () => {
    const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`{${prefix}}:*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('renames a deployment\'s vault, audit trail and build secrets under its hash tag once, and leaves its jobs alone', async () => {
    await redis.hset(`${prefix}:registry-credentials`, 'team-a/registry.example', '{"sealed":"x"}');
    await redis.xadd(`${prefix}:audit`, '*', 'action', 'login');
    await redis.sadd(`${prefix}:build-secrets:teams`, 'team-a');
    await redis.hset(`${prefix}:build-secrets:values:team-a`, 'npm', 'sealed');
    await redis.hset(`${prefix}:build-secrets:meta:team-a`, 'npm', '{}');
    await redis.set(`${prefix}:job:1`, '{}');

    expect(await carryOverUntaggedKeys(redis, prefix, logger)).toBe(5);
    expect(await redis.hget(`{${prefix}}:registry-credentials`, 'team-a/registry.example')).toBe('{"sealed":"x"}');
    expect(await redis.xlen(`{${prefix}}:audit`)).toBe(1);
    expect(await redis.smembers(`{${prefix}}:build-secrets:teams`)).toEqual(['team-a']);
    expect(await redis.hget(`{${prefix}}:build-secrets:values:team-a`, 'npm')).toBe('sealed');
    expect(await redis.exists(`{${prefix}}:build-secrets:meta:team-a`)).toBe(1);
    expect(await redis.exists(`${prefix}:registry-credentials`, `${prefix}:audit`, `${prefix}:build-secrets:teams`)).toBe(0);
    expect(await redis.exists(`${prefix}:job:1`)).toBe(1);

    // A second process, or the next start, finds nothing left to do.
    expect(await carryOverUntaggedKeys(redis, prefix, logger)).toBe(0);
  });

  it('never overwrites a key written under the tag since: it keeps both and says so', async () => {
    await redis.hset(`${prefix}:registry-credentials`, 'old', '1');
    await redis.hset(`{${prefix}}:registry-credentials`, 'new', '2');
    expect(await carryOverUntaggedKeys(redis, prefix, logger)).toBe(0);
    expect(await redis.hgetall(`{${prefix}}:registry-credentials`)).toEqual({ 'team-a/registry.example': '{"sealed":"x"}', new: '2' });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(`${prefix}:registry-credentials is left as it was`));
  });
});
