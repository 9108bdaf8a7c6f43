import { redisKeyBase, type RedisClient } from '@drydock/jobs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import type { Principal } from './principal';

const WINDOW_MS = 60_000;

export class RateLimitedError extends DrydockError {
  constructor(readonly retryAfterSeconds: number, limit: number) {
    super(ErrorCode.RATE_LIMITED, `more than ${limit} mutations in a minute from this token; retry in ${retryAfterSeconds} s`);
  }
}

/**
 * A per-token budget of mutations per minute (fixed one-minute windows in
 * Redis, so every API process shares it). The AllExceptionsFilter turns the
 * error's retryAfterSeconds into a Retry-After header.
 */
@Injectable()
export class MutationRateLimiter {
  private readonly logger = new Logger(MutationRateLimiter.name);
  private lastWarning = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  get limit(): number {
    return this.config.mutationsPerMinute;
  }

  /**
   * Counts `count` mutations (a GraphQL operation's every mutation field) against the token's
   * budget at once; throws RateLimitedError when they do not all fit, and then none may run.
   */
  async consume(principal: Principal, count = 1, now = Date.now()): Promise<void> {
    if (this.limit <= 0 || count <= 0) return;
    const window = Math.floor(now / WINDOW_MS);
    const key = `${redisKeyBase(this.config.keyPrefix)}:ratelimit:${principal.name}:${window}`;
    let spent: number;
    try {
      const results = await this.redis.multi().incrby(key, count).pexpire(key, WINDOW_MS * 2).exec();
      spent = Number(results?.[0]?.[1] ?? 0);
    } catch (error) {
      // A limiter that refused all writes while Redis is away would add an outage to an outage;
      // the requests that need Redis fail on their own.
      if (now - this.lastWarning > WINDOW_MS) {
        this.lastWarning = now;
        this.logger.warn(`rate limit not enforced, Redis unavailable: ${(error as Error).message}`);
      }
      return;
    }
    // A refused request still counts: a client hammering past its budget stays refused.
    if (spent > this.limit) {
      throw new RateLimitedError(Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)), this.limit);
    }
  }
}
