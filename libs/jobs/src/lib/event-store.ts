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
 * keys and turn empty arrays into objects. One call stores a batch: the
 * events a busy job emitted while its last write was on its way, numbered
 * consecutively (a build's trace arrives in bursts; one round trip per event
 * cost more than the events themselves).
 *
 * An append may be applied and its answer lost with the connection; the
 * client (ioredis resending, or a ride through an outage) then sends it
 * again. Each store instance is a writer whose appends to one job go one at
 * a time, so a repeat can only be its latest append: the writers hash keeps
 * each writer's latest "seq:token", and the same token again answers that
 * batch's last sequence (negated) instead of storing it twice.
 *
 * ARGV: head, channel, retention, closes ('1': the last event is terminal), writer, token, then one tail per event.
 */
const APPEND = new LuaScript(`
local last = redis.call('HGET', KEYS[4], ARGV[5])
if last then
  local sep = string.find(last, ':', 1, true)
  if string.sub(last, sep + 1) == ARGV[6] then return -tonumber(string.sub(last, 1, sep - 1)) end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local count = #ARGV - 6
local seq = redis.call('INCRBY', KEYS[1], count)
local first = seq - count + 1
local rows = {}
for i = 1, count do rows[i] = ARGV[1] .. (first + i - 1) .. ARGV[6 + i] end
redis.call('RPUSH', KEYS[2], unpack(rows))
redis.call('HSET', KEYS[4], ARGV[5], seq .. ':' .. ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
if ARGV[4] == '1' then redis.call('SET', KEYS[3], seq, 'PX', ARGV[3]) end
for i = 1, count do redis.call('PUBLISH', ARGV[2], rows[i]) end
return seq
`);

/** Events per append call: well inside Lua's stack for unpack(), and a bounded script run. */
export const MAX_APPEND_BATCH = 256;

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
  async append(jobId: string, input: JobEventInput): Promise<JobEvent> {
    const [event] = await this.appendMany(jobId, [input]);
    return event as JobEvent;
  }

  /**
   * Stores the events in order with consecutive sequences, in one round trip
   * (at most MAX_APPEND_BATCH; only the last may be terminal), after every
   * earlier append of this store to the same job. All or none: JOB_FINISHED
   * once the terminal STATE event is stored.
   */
  appendMany(jobId: string, inputs: readonly JobEventInput[]): Promise<JobEvent[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    if (inputs.length > MAX_APPEND_BATCH) throw new RangeError(`at most ${MAX_APPEND_BATCH} events per append, not ${inputs.length}`);
    if (inputs.slice(0, -1).some(isTerminalEvent)) throw new RangeError('only the last event of a batch may end the job');
    const previous = this.tails.get(jobId) ?? Promise.resolve();
    const appended = previous.catch(() => undefined).then(() => this.appendNow(jobId, inputs));
    this.tails.set(jobId, appended);
    const forget = (): void => {
      if (this.tails.get(jobId) === appended) this.tails.delete(jobId);
    };
    appended.then(forget, forget);
    return appended;
  }

  private async appendNow(jobId: string, inputs: readonly JobEventInput[]): Promise<JobEvent[]> {
    const at = new Date().toISOString();
    const bodies = inputs.map((input) => ({
      at,
      kind: input.kind,
      state: input.state ?? null,
      message: input.message ?? null,
      progress: input.progress ?? null,
      layer: input.layer ?? null,
      step: input.step ?? null,
      stream: input.stream ?? null,
      result: input.result ?? null,
      error: input.error ?? null,
    }));
    const head = `{"jobId":${JSON.stringify(jobId)},"sequence":`;
    const tails = bodies.map((body) => `,${JSON.stringify(body).slice(1)}`);
    const token = randomBytes(8).toString('hex');
    const closes = isTerminalEvent(inputs[inputs.length - 1] as JobEventInput) ? '1' : '0';
    const answer = Number(
      await this.ride(() =>
        APPEND.run(
          this.redis,
          [this.keys.eventCounter(jobId), this.keys.eventList(jobId), this.keys.eventsClosed(jobId), this.keys.eventWriters(jobId)],
          [head, this.keys.eventChannel(jobId), this.retentionMs, closes, this.writer, token, ...tails],
        ),
      ),
    );
    if (answer === 0) {
      throw new DrydockError(ErrorCode.JOB_FINISHED, `job ${jobId} has ended; its events are closed`);
    }
    const first = Math.abs(answer) - bodies.length + 1;
    return bodies.map((body, i) => ({ jobId, sequence: first + i, ...body }));
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
