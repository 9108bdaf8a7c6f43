import { randomBytes } from 'node:crypto';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { RedisClient } from './redis-target';
import { JobKeys } from './keys';
import { LuaScript } from './lua';
import { type JobEvent, type JobEventInput, isTerminalEvent } from './model';
import { ONCE, type RedisRide } from './redis-outage';

export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;

export interface JobStoreOptions {
  /** Key prefix shared by every part of the jobs library (`drydock`, or a test's own). */
  prefix: string;
  /** How long a job's record and events outlive its end. Default 24 h. */
  retentionMs?: number;
  /** How writes meet a Redis outage: ONCE (fail fast, the default) or a RedisOutage's ride (retry until it answers). */
  ride?: RedisRide;
}

/*
 * Numbering, storing and publishing happen in one script so that writers in
 * several processes can never leave a gap, store out of order, or publish an
 * event a replay would not find. The JSON is spliced around the sequence
 * (head .. seq .. tail) rather than decoded with cjson, which would reorder
 * keys and turn empty arrays into objects.
 *
 * An append may be applied and its answer lost with the connection; the
 * client (ioredis resending, or a ride through an outage) then sends it
 * again. Each store instance is a writer whose appends to one job go one at
 * a time, so a repeat can only be its latest append: the writers hash keeps
 * each writer's latest "seq:token", and the same token again answers that
 * sequence (negated) instead of storing the event twice.
 */
const APPEND = new LuaScript(`
local last = redis.call('HGET', KEYS[4], ARGV[6])
if last then
  local sep = string.find(last, ':', 1, true)
  if string.sub(last, sep + 1) == ARGV[7] then return -tonumber(string.sub(last, 1, sep - 1)) end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[1])
local json = ARGV[1] .. seq .. ARGV[2]
redis.call('RPUSH', KEYS[2], json)
redis.call('HSET', KEYS[4], ARGV[6], seq .. ':' .. ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
if ARGV[5] == '1' then redis.call('SET', KEYS[3], seq, 'PX', ARGV[4]) end
redis.call('PUBLISH', ARGV[3], json)
return seq
`);

/** Sequences are safe integers; anything else reads as past the end, never as a Redis error. */
function clampSequence(sequence: number): number {
  if (!Number.isFinite(sequence)) return Number.MAX_SAFE_INTEGER;
  return Math.min(Math.max(1, Math.floor(sequence)), Number.MAX_SAFE_INTEGER);
}

/** Each job's events: a Redis list whose index i holds sequence i + 1. */
export class JobEventStore {
  readonly keys: JobKeys;
  readonly retentionMs: number;
  private readonly ride: RedisRide;
  private readonly writer = randomBytes(8).toString('hex');
  /** Each job's last append from this writer: the next one waits for it (see APPEND). */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: RedisClient,
    options: JobStoreOptions,
  ) {
    this.keys = new JobKeys(options.prefix);
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.ride = options.ride ?? ONCE;
  }

  /**
   * Stores the event with the job's next sequence and publishes it, after
   * every earlier append of this store to the same job. Throws JOB_FINISHED
   * once the terminal STATE event is stored, so a late straggler can never follow it.
   */
  append(jobId: string, input: JobEventInput): Promise<JobEvent> {
    const previous = this.tails.get(jobId) ?? Promise.resolve();
    const appended = previous.catch(() => undefined).then(() => this.appendNow(jobId, input));
    this.tails.set(jobId, appended);
    const forget = (): void => {
      if (this.tails.get(jobId) === appended) this.tails.delete(jobId);
    };
    appended.then(forget, forget);
    return appended;
  }

  private async appendNow(jobId: string, input: JobEventInput): Promise<JobEvent> {
    const body = {
      at: new Date().toISOString(),
      kind: input.kind,
      state: input.state ?? null,
      message: input.message ?? null,
      progress: input.progress ?? null,
      layer: input.layer ?? null,
      step: input.step ?? null,
      stream: input.stream ?? null,
      result: input.result ?? null,
      error: input.error ?? null,
    };
    const head = `{"jobId":${JSON.stringify(jobId)},"sequence":`;
    const tail = `,${JSON.stringify(body).slice(1)}`;
    const token = randomBytes(8).toString('hex');
    const answer = Number(
      await this.ride(() =>
        APPEND.run(
          this.redis,
          [this.keys.eventCounter(jobId), this.keys.eventList(jobId), this.keys.eventsClosed(jobId), this.keys.eventWriters(jobId)],
          [head, tail, this.keys.eventChannel(jobId), this.retentionMs, isTerminalEvent(input) ? '1' : '0', this.writer, token],
        ),
      ),
    );
    if (answer === 0) {
      throw new DrydockError(ErrorCode.JOB_FINISHED, `job ${jobId} has ended; its events are closed`);
    }
    return { jobId, sequence: Math.abs(answer), ...body };
  }

  /**
   * The stored events from `fromSequence` (1-based, inclusive) on, in order:
   * all of them, or at most `limit` (a page: readers of a long job page
   * through it rather than hold it whole).
   */
  async range(jobId: string, fromSequence = 1, limit?: number): Promise<JobEvent[]> {
    const start = clampSequence(fromSequence) - 1;
    const stop = limit === undefined ? -1 : start + Math.max(1, Math.floor(limit)) - 1;
    const rows = await this.redis.lrange(this.keys.eventList(jobId), start, stop);
    const events = rows.map((row) => JSON.parse(row) as JobEvent);
    // The reply array stays reachable from ioredis's command and its promise, which a busy
    // process has often already moved to the old generation: until the next full GC they
    // would keep every row string alive, and each scavenge would promote a page's worth.
    // Thirty readers replaying a 20,000-event job promoted 120 MB that way.
    rows.length = 0;
    return events;
  }

  async count(jobId: string): Promise<number> {
    return Number((await this.redis.get(this.keys.eventCounter(jobId))) ?? 0);
  }

  /** Whether the terminal STATE event is stored. */
  async isClosed(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.eventsClosed(jobId))) === 1;
  }
}
