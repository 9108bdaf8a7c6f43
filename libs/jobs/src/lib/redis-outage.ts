import { isRedisUnreachable, redisUnavailable } from '@drydock/core';

export const DEFAULT_REDIS_GRACE_MS = 60_000;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;

/** Runs a Redis operation: once, or again and again through an outage. */
export type RedisRide = <T>(op: () => Promise<T>) => Promise<T>;

/** For stores that must fail fast (request handlers): one try, the outage surfaces as REDIS_UNAVAILABLE. */
export const ONCE: RedisRide = (op) => op();

/**
 * One process's view of Redis being away, for the writers that must not lose
 * what they write (a job's events, its transitions, its ending). ride()
 * retries an operation that failed because Redis was unreachable until Redis
 * answers, so writes held meanwhile land in order; the operations ridden must
 * be idempotent (the stores make them so). The grace period does not bound
 * the retrying, only the work: past it, pastGrace tells the worker to give
 * its jobs up (their endings still wait for Redis, the only place to record them).
 */
export class RedisOutage {
  private downSince: number | null = null;
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    readonly graceMs = DEFAULT_REDIS_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  readonly ride: RedisRide = async (op) => {
    let wait = FIRST_RETRY_MS;
    for (;;) {
      try {
        const value = await op();
        this.downSince = null;
        return value;
      } catch (error) {
        if (!isRedisUnreachable(error)) throw error;
        this.downSince ??= this.now();
        if (this.closed) throw redisUnavailable(error, 'Redis was unreachable and the worker is shutting down');
        await this.pause(wait);
        wait = Math.min(wait * 2, MAX_RETRY_MS);
      }
    }
  };

  /** Whether Redis has been unreachable (as the writers found it) for longer than the grace period. */
  get pastGrace(): boolean {
    return this.downSince !== null && this.now() - this.downSince > this.graceMs;
  }

  get unreachableForMs(): number {
    return this.downSince === null ? 0 : this.now() - this.downSince;
  }

  /** Redis answered a command outside ride() (a connection's 'ready'). */
  markReachable(): void {
    this.downSince = null;
  }

  /** The connection went away: the outage starts now even if no write has failed yet. */
  markUnreachable(): void {
    this.downSince ??= this.now();
  }

  /** Shutdown: rides stop retrying and fail REDIS_UNAVAILABLE at their next failure. */
  close(): void {
    this.closed = true;
    for (const wake of this.wakers) wake();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
