import { DrydockError, ErrorCode } from '@drydock/core';
import type { RedisClient } from '../redis-target';
import { LuaScript } from '../lua';
import type { JobType } from '../model';
import type { JobRecordStore } from '../record-store';

/**
 * An entry whose job record never appeared this long after it was reserved
 * belongs to a request that died in between: it no longer counts.
 */
const ORPHAN_AFTER_MS = 60_000;

/** Seconds a client refused with QUEUE_FULL is told to wait: jobs start and end in seconds to minutes. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 10;

/**
 * Reserves a waiting place, unless the team already has `max` jobs waiting.
 * Only when full does it look for entries that should not be there (a process
 * that died between its steps) and drop them, so the common path is one ZCARD.
 * Keys of other types are built here from the prefix in ARGV: the team's
 * entries span every type. KEYS: all waiting, waiting of this type.
 * ARGV: type, id, now, max, record key prefix, orphan age, team key base.
 */
const RESERVE = new LuaScript(`
local max = tonumber(ARGV[4])
if redis.call('ZCARD', KEYS[1]) >= max then
  local now = tonumber(ARGV[3])
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local entry = entries[i]
    local sep = string.find(entry, ':', 1, true)
    local type, id = string.sub(entry, 1, sep - 1), string.sub(entry, sep + 1)
    local raw = redis.call('GET', ARGV[5] .. id)
    local stale
    if raw then stale = cjson.decode(raw).state ~= 'QUEUED' else stale = tonumber(entries[i + 1]) < now - tonumber(ARGV[6]) end
    if stale then
      redis.call('ZREM', KEYS[1], entry)
      redis.call('ZREM', ARGV[7] .. ':waiting:' .. type, id)
    end
  end
  if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
end
-- Strictly after the last one: two jobs queued in the same millisecond keep their order.
local score = tonumber(ARGV[3])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
if last and tonumber(last) >= score then score = tonumber(last) + 0.001 end
-- Formatted here: Lua would print the number with 14 digits and lose the fraction.
score = string.format('%.3f', score)
redis.call('ZADD', KEYS[1], score, ARGV[1] .. ':' .. ARGV[2])
redis.call('ZADD', KEYS[2], score, ARGV[2])
return 1
`);

/**
 * Takes a running slot for the job (kept if it already holds one: a job
 * restarted after its worker died), unless the team runs `limit` of this type
 * already. When full, members whose job has ended or expired are dropped
 * first: a slot is never lost for good to a process that died. On success the
 * job leaves the waiting sets. KEYS: running, all waiting, waiting of this
 * type. ARGV: id, limit, record key prefix, type.
 */
const ACQUIRE = new LuaScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  local limit = tonumber(ARGV[2])
  if redis.call('SCARD', KEYS[1]) >= limit then
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
      local raw = redis.call('GET', ARGV[3] .. id)
      local state = raw and cjson.decode(raw).state
      if not raw or state == 'SUCCEEDED' or state == 'FAILED' or state == 'CANCELLED' then
        redis.call('SREM', KEYS[1], id)
      end
    end
    if redis.call('SCARD', KEYS[1]) >= limit then return 0 end
  end
  redis.call('SADD', KEYS[1], ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[4] .. ':' .. ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`);

/** A team has as many jobs waiting as it may: 429 with Retry-After. */
export class QueueFullError extends DrydockError {
  readonly retryAfterSeconds = QUEUE_FULL_RETRY_AFTER_SECONDS;

  constructor(max: number) {
    super(
      ErrorCode.QUEUE_FULL,
      `the team already has ${max} jobs waiting; retry when some have started (in about ${QUEUE_FULL_RETRY_AFTER_SECONDS} s)`,
    );
  }
}

export interface JobOwnerRef {
  id: string;
  type: JobType;
  team: string | null;
}

/**
 * Per-team bookkeeping shared by every process through Redis: the jobs a
 * team has waiting (its waiting limit, a job's position) and the jobs holding
 * one of its running slots (its running limit per type). Every change is one
 * script or transaction, so API and worker processes never count past a limit.
 */
export class TeamSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly records: JobRecordStore,
  ) {}

  /** Counts the job as waiting, or throws QUEUE_FULL when the team has `max` waiting already. */
  async reserveWaiting(job: JobOwnerRef, max: number): Promise<void> {
    const { keys } = this.records;
    const reserved = await RESERVE.run(
      this.redis,
      [keys.teamWaiting(job.team), keys.teamWaitingOf(job.team, job.type)],
      [job.type, job.id, Date.now(), max, keys.record(''), ORPHAN_AFTER_MS, keys.team(job.team)],
    );
    if (Number(reserved) !== 1) throw new QueueFullError(max);
  }

  /** True when the job may run now (and it stops counting as waiting); false when its team is at `limit`. */
  async acquireRunning(job: JobOwnerRef, limit: number): Promise<boolean> {
    const { keys } = this.records;
    const acquired = await ACQUIRE.run(
      this.redis,
      [keys.teamRunning(job.team, job.type), keys.teamWaiting(job.team), keys.teamWaitingOf(job.team, job.type)],
      [job.id, limit, keys.record(''), job.type],
    );
    return Number(acquired) === 1;
  }

  /** Gives the running slot back, after each attempt: a job waiting for its retry holds none. */
  async releaseRunning(job: JobOwnerRef): Promise<void> {
    await this.redis.srem(this.records.keys.teamRunning(job.team, job.type), job.id);
  }

  /** Forgets the job everywhere: it has ended (or was never queued). Idempotent. */
  async release(job: JobOwnerRef): Promise<void> {
    const { keys } = this.records;
    await this.redis
      .multi()
      .zrem(keys.teamWaiting(job.team), `${job.type}:${job.id}`)
      .zrem(keys.teamWaitingOf(job.team, job.type), job.id)
      .srem(keys.teamRunning(job.team, job.type), job.id)
      .exec();
  }

  /** The team's job of this type that has waited longest, if any: the one to wake when a slot frees. */
  async oldestWaiting(team: string | null, type: JobType): Promise<string | null> {
    const [id] = await this.redis.zrange(this.records.keys.teamWaitingOf(team, type), 0, 0);
    return id ?? null;
  }

  /** 1-based place among the team's waiting jobs of its type (the order they start in); null when not waiting. */
  async positions(jobs: readonly JobOwnerRef[]): Promise<(number | null)[]> {
    if (jobs.length === 0) return [];
    const { keys } = this.records;
    const pipeline = this.redis.pipeline();
    for (const job of jobs) pipeline.zrank(keys.teamWaitingOf(job.team, job.type), job.id);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, rank]) => (error || rank === null ? null : Number(rank) + 1));
  }
}
