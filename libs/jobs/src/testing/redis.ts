import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisClient, RedisTarget } from '../lib/redis-target';

/** The test Redis of `scripts/services.sh test`. */
export const TEST_REDIS_URL = process.env['DRYDOCK_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6391';

/** A prefix no other test file (or run) shares; everything a test writes lives under it. */
export function testPrefix(): string {
  return `drydock-test-${randomUUID()}`;
}

export function testRedisOptions(): RedisOptions {
  const url = new URL(TEST_REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

export function testRedisTarget(): RedisTarget {
  return { kind: 'node', options: testRedisOptions() };
}

export function connectTestRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Every key under this prefix's hash tag, and under longer prefixes that start with it (a test's sub-stores). */
export async function removeKeys(redis: RedisClient, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Polls `probe` until it yields a value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
