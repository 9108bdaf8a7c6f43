import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-target';

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when the server
 * does not know it (a restart or SCRIPT FLUSH). Scripts are how the stores
 * make multi-key updates atomic across processes without WATCH, which would
 * not be safe on a connection shared by concurrent callers.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw error;
    }
  }
}

const CLAIM_STALE = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], ARGV[3], id) end
return ids
`);

/**
 * Up to `max` members of a sorted set scored by time (ms) that are `olderThanMs` old or more, each
 * scored anew with now in the same script: a claim, so other processes leave them for as long.
 */
export async function claimStale(redis: RedisClient, key: string, olderThanMs: number, max: number): Promise<string[]> {
  const now = Date.now();
  return (await CLAIM_STALE.run(redis, [key], [now - olderThanMs, max, now])) as string[];
}
