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
