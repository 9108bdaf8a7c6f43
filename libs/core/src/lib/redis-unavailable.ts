import { DrydockError, ErrorCode } from './errors';

/*
 * What ioredis and BullMQ throw when Redis cannot be reached: the connection
 * refused or dropped, a command given up after its retries, a write to a
 * closed socket, a command refused while offline; a Cluster without a master
 * for the slot, or a Sentinel failover under way. Matched by name and message
 * because neither library exports classes for all of them.
 */
const UNREACHABLE_NAMES = new Set(['MaxRetriesPerRequestError']);
const UNREACHABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection is closed|Reached the max retries per request limit|Stream isn't writeable|enableOfflineQueue|LOADING Redis is loading|Socket closed unexpectedly|^(CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY) |Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable/;

/** True when `error` says Redis was unreachable, not that it refused the command. */
export function isRedisUnreachable(error: unknown): boolean {
  if (error instanceof DrydockError) return error.code === ErrorCode.REDIS_UNAVAILABLE;
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
  if (typeof name === 'string' && UNREACHABLE_NAMES.has(name)) return true;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)$/.test(code)) return true;
  return typeof message === 'string' && UNREACHABLE_MESSAGE.test(message);
}

/**
 * The one shape a Redis outage takes once it leaves the code that met it:
 * REDIS_UNAVAILABLE with Drydock's own words. The client library's message
 * ("Reached the max retries per request limit") stays in `cause`, for logs only.
 */
export function redisUnavailable(cause?: unknown, detail = 'Redis is unreachable; try again shortly'): DrydockError {
  if (cause instanceof DrydockError && cause.code === ErrorCode.REDIS_UNAVAILABLE) return cause;
  return new DrydockError(ErrorCode.REDIS_UNAVAILABLE, detail, cause === undefined ? undefined : { cause });
}
