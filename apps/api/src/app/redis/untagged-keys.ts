import type { Logger } from '@nestjs/common';
import { redisKeyBase, type RedisClient } from '@drydock/jobs';

/** What a deployment keeps beyond its jobs' retention: the vault, the audit trail and the build secrets. */
const DURABLE = ['registry-credentials', 'audit', 'build-secrets:teams'];

/**
 * Before keys were hash-tagged they read `drydock:...`; now `{drydock}:...`.
 * The durable ones are renamed at boot (RENAMENX: atomic, and a no-op once
 * done, whichever process gets there first). Jobs, queues, leases and rate
 * windows are not: they are drained before an upgrade, and the old ones
 * expire. A Cluster never held untagged keys (BullMQ cannot run there without
 * the tag), so only a single node is looked at.
 */
export async function carryOverUntaggedKeys(redis: RedisClient, prefix: string, logger: Pick<Logger, 'log' | 'warn'>): Promise<number> {
  const base = redisKeyBase(prefix);
  const teams = await redis.smembers(`${prefix}:build-secrets:teams`);
  const names = [...DURABLE, ...teams.flatMap((team) => [`build-secrets:values:${team}`, `build-secrets:meta:${team}`])];
  let moved = 0;
  for (const name of names) {
    const from = `${prefix}:${name}`;
    const to = `${base}:${name}`;
    if (!(await redis.exists(from))) continue;
    try {
      if (await redis.renamenx(from, to)) moved += 1;
      else logger.warn(`Redis key ${from} is left as it was: ${to} exists already`);
    } catch (error) {
      // Another process renamed it between the two calls.
      if (!/no such key/i.test((error as Error).message)) throw error;
    }
  }
  if (moved) logger.log(`renamed ${moved} Redis keys from ${prefix}:* to ${base}:*`);
  return moved;
}
