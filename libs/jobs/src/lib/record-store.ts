import { DrydockError, ErrorCode } from '@drydock/core';
import type { RedisClient } from './redis-target';
import { DEFAULT_RETENTION_MS, type JobStoreOptions } from './event-store';
import { type JobPosition } from './job-cursor';
import { JobKeys } from './keys';
import { claimStale, LuaScript } from './lua';
import { type JobError, type JobRecord, type JobResult, JobState, type JobType, isTerminal } from './model';
import { ONCE, type RedisRide } from './redis-outage';

export interface NewJob {
  id: string;
  type: JobType;
  request: Record<string, unknown>;
  team?: string | null;
  owner?: string | null;
  /** A key from `findOrRemember` that this job holds until it ends. */
  dedupKey?: string | null;
  timeoutSeconds?: number | null;
  engine?: string | null;
}

export interface JobFilter {
  type?: JobType;
  state?: JobState;
  team?: string;
  /** Jobs routed to this engine. */
  engine?: string;
  /** Created at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Created at or before this time (ms since the epoch). */
  untilMs?: number;
  /** Only jobs older than this place: where the previous page ended. */
  after?: JobPosition;
  /** Default 50, at most 1000. */
  limit?: number;
}

/** One page, newest first, and where the next one starts (null: nothing older is left). */
export interface JobPage {
  items: JobRecord[];
  next: JobPosition | null;
}

/**
 * Index entries one page looks at, at most. A sparse filter (one team's
 * FAILED EXPORTs among a week of pulls) then answers a short, even empty, page
 * with a cursor to go on from, instead of reading every record in one request.
 */
export const JOB_PAGE_SCAN_BUDGET = 5000;
/** The largest page of jobs; the API's `limit` stops at it too. */
export const JOB_PAGE_MAX = 500;
/** Index entries read per round trip while paging. */
const PAGE_BATCH = 200;
/** Jobs created in one millisecond, at most, that paging tells apart; no API process creates nearly so many. */
const TIE_LIMIT = 1000;

/** Where a scan of the index starts: below `score`, and at it only the ids below `id` (all of them when `id` is null). */
interface ScanFrom {
  score: number;
  id: string | null;
}

export interface JobPatch {
  progress?: number | null;
  result?: JobResult | null;
  error?: JobError | null;
  attempts?: number;
}

/*
 * Compare-and-set on the whole JSON: the write only lands if nobody changed
 * the record since it was read, so a cancel from the API and a start in a
 * worker can race without one overwriting the other. A terminal write also
 * starts the retention TTL and releases the job's dedup key (only if the key
 * still names this job).
 */
const COMPARE_AND_SET = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
  if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
else
  redis.call('SET', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
`);

const COMPARE_AND_DELETE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Beyond this a contended record update gives up rather than spin. */
const MAX_CAS_ATTEMPTS = 50;
/** Index entries older than this are trimmed on create; their records are long gone. */
const INDEX_HORIZON_EXTRA_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * Index entries each create looks at past the retention: more than the one it
 * adds, so the index shrinks back after a burst. Entries of jobs still open
 * that long stay (they are looked at again next time); only past this many
 * of them does the 7-day horizon above become what trims.
 */
const INDEX_PRUNE_BATCH = 20;

/**
 * Drops the oldest index entries whose record has expired (a record that has
 * not ended never expires, so a missing one is gone for good): without it the
 * index keeps every job of the last week. KEYS: index. ARGV: created before
 * (ms), batch, record key prefix.
 */
const PRUNE_INDEX = new LuaScript(`
local removed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  if redis.call('EXISTS', ARGV[3] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return removed
`);

/**
 * Job records as JSON at `{prefix}:job:{id}`, indexed newest-first, with every
 * change published for `jobUpdated`. Non-terminal records never expire; a
 * terminal one lives for the retention period.
 */
export class JobRecordStore {
  readonly keys: JobKeys;
  readonly retentionMs: number;
  private readonly ride: RedisRide;

  constructor(
    private readonly redis: RedisClient,
    options: JobStoreOptions,
  ) {
    this.keys = new JobKeys(options.prefix);
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.ride = options.ride ?? ONCE;
  }

  async create(job: NewJob): Promise<JobRecord> {
    const now = Date.now();
    const record: JobRecord = {
      id: job.id,
      type: job.type,
      state: JobState.QUEUED,
      progress: null,
      createdAt: new Date(now).toISOString(),
      startedAt: null,
      finishedAt: null,
      request: job.request,
      result: null,
      error: null,
      team: job.team ?? null,
      owner: job.owner ?? null,
      attempts: 0,
      timeoutSeconds: job.timeoutSeconds ?? null,
      engine: job.engine ?? null,
    };
    const json = JSON.stringify(record);
    const tx = this.redis
      .multi()
      .set(this.keys.record(job.id), json, 'NX')
      .zadd(this.keys.index, now, job.id)
      .zremrangebyscore(this.keys.index, '-inf', now - this.retentionMs - INDEX_HORIZON_EXTRA_MS);
    if (job.dedupKey) tx.set(this.keys.dedupOwner(job.id), this.keys.remembered(job.dedupKey));
    const replies = await tx.publish(this.keys.recordChannel, json).exec();
    if (replies?.[0]?.[1] !== 'OK') {
      throw new DrydockError(ErrorCode.CONFLICT, `job ${job.id} already exists`);
    }
    // Housekeeping: a failure here leaves entries for the next create (or list) to drop.
    await PRUNE_INDEX.run(this.redis, [this.keys.index], [now - this.retentionMs, INDEX_PRUNE_BATCH, this.keys.record('')]).catch(() => undefined);
    return record;
  }

  async get(id: string): Promise<JobRecord | null> {
    const raw = await this.ride(() => this.redis.get(this.keys.record(id)));
    return raw === null ? null : (JSON.parse(raw) as JobRecord);
  }

  async require(id: string): Promise<JobRecord> {
    const record = await this.get(id);
    if (!record) throw new DrydockError(ErrorCode.JOB_NOT_FOUND, `job ${id} not found`);
    return record;
  }

  /**
   * Moves a live job to `to` (RUNNING again is allowed, to count a retry).
   * Returns null when the job has already ended: whoever ended it first won,
   * and the caller must not write a second ending.
   */
  async transition(id: string, to: JobState, patch: JobPatch = {}): Promise<JobRecord | null> {
    if (to === JobState.QUEUED) throw new Error('a job never goes back to QUEUED');
    return this.update(id, (current) => {
      if (isTerminal(current.state)) return null;
      const now = new Date().toISOString();
      return {
        ...current,
        ...patch,
        state: to,
        startedAt: current.startedAt ?? (to === JobState.RUNNING ? now : null),
        finishedAt: isTerminal(to) ? now : null,
      };
    });
  }

  /** The job's ending has been seen through (see JobKeys.endings). */
  async endingSeen(id: string): Promise<void> {
    await this.redis.zrem(this.keys.endings, id);
  }

  /**
   * Up to `max` endings begun `olderThanMs` ago or more and not seen through: their process died,
   * or is far behind. Each is claimed (scored anew) so that other processes leave it for as long.
   */
  async claimStrandedEndings(olderThanMs: number, max: number): Promise<string[]> {
    return claimStale(this.redis, this.keys.endings, olderThanMs, max);
  }

  /** Records the latest overall progress of a live job; null once it has ended. */
  async setProgress(id: string, progress: number): Promise<JobRecord | null> {
    return this.update(id, (current) =>
      isTerminal(current.state) || current.progress === progress ? null : { ...current, progress },
    );
  }

  /** Newest first; one page of `page`. */
  async list(filter: JobFilter = {}): Promise<JobRecord[]> {
    return (await this.page(filter)).items;
  }

  /**
   * Newest first (creation time, then id, both descending), from `filter.after`
   * on. Positions are scores and ids, not offsets, so jobs created meanwhile
   * (all newer) or expiring meanwhile never shift a later page: none repeats or
   * is skipped. Looks at `scanBudget` index entries at most; ids whose record
   * has expired are dropped from the index on the way.
   */
  async page(filter: JobFilter = {}, scanBudget = JOB_PAGE_SCAN_BUDGET): Promise<JobPage> {
    const limit = Math.min(Math.max(Math.floor(filter.limit ?? 50), 1), JOB_PAGE_MAX);
    const floor = filter.sinceMs ?? Number.NEGATIVE_INFINITY;
    let from = startOf(filter);
    const items: JobRecord[] = [];
    let examined = 0;
    for (;;) {
      const want = Math.min(PAGE_BATCH, scanBudget - examined);
      if (want <= 0 && from?.id != null) return { items, next: { createdAtMs: from.score, id: from.id } };
      const { entries, exhausted } = await this.entriesFrom(from, floor, Math.max(want, 1));
      const raws = entries.length ? await this.redis.mget(entries.map((entry) => this.keys.record(entry.id))) : [];
      const expired: string[] = [];
      for (const [i, entry] of entries.entries()) {
        examined++;
        from = entry;
        const raw = raws[i];
        if (raw == null) {
          expired.push(entry.id);
          continue;
        }
        const record = JSON.parse(raw) as JobRecord;
        if (!matches(record, filter)) continue;
        items.push(record);
        if (items.length === limit) {
          if (expired.length) await this.redis.zrem(this.keys.index, ...expired);
          const last = exhausted && i === entries.length - 1;
          return { items, next: last ? null : { createdAtMs: entry.score, id: entry.id } };
        }
      }
      if (expired.length) await this.redis.zrem(this.keys.index, ...expired);
      if (exhausted) return { items, next: null };
    }
  }

  /**
   * Up to `count` index entries below `from` and at or above `floor`, newest
   * first. Same-score entries come in descending id order (the sorted set's
   * own), so the ones at `from`'s score still to come are those below its id.
   */
  private async entriesFrom(
    from: ScanFrom | null,
    floor: number,
    count: number,
  ): Promise<{ entries: Array<{ id: string; score: number }>; exhausted: boolean }> {
    const min = Number.isFinite(floor) ? String(floor) : '-inf';
    const withTies = from !== null && from.score >= floor;
    const tx = this.redis.pipeline();
    if (withTies) tx.zrevrangebyscore(this.keys.index, from.score, from.score, 'WITHSCORES', 'LIMIT', 0, TIE_LIMIT);
    tx.zrevrangebyscore(this.keys.index, from ? `(${from.score}` : '+inf', min, 'WITHSCORES', 'LIMIT', 0, count);
    const lists = ((await tx.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return pairs(reply as string[]);
    });
    const after = withTies ? (lists[0] ?? []).filter((entry) => from.id === null || entry.id < from.id) : [];
    const rest = lists[withTies ? 1 : 0] ?? [];
    const entries = [...after, ...rest].slice(0, count);
    return { entries, exhausted: after.length + rest.length <= count && rest.length < count };
  }

  /**
   * Remembers `jobId` under `key` unless another job is already remembered
   * there: returns that job's id, or null when `jobId` was remembered now.
   * One atomic SET NX GET, so two concurrent requests cannot both win.
   */
  async findOrRemember(key: string, jobId: string, ttlMs = this.retentionMs): Promise<string | null> {
    const previous = await this.redis.call('SET', this.keys.remembered(key), jobId, 'PX', ttlMs, 'NX', 'GET');
    return typeof previous === 'string' ? previous : null;
  }

  /** Points `key` at `jobId`, whatever it named before. */
  async remember(key: string, jobId: string, ttlMs = this.retentionMs): Promise<void> {
    await this.redis.set(this.keys.remembered(key), jobId, 'PX', ttlMs);
  }

  /** Forgets `key` only if it still names `jobId`. */
  async forget(key: string, jobId: string): Promise<boolean> {
    return Number(await COMPARE_AND_DELETE.run(this.redis, [this.keys.remembered(key)], [jobId])) === 1;
  }

  /**
   * Flags the job as cancelled and tells every worker process. The flag
   * covers a worker that picks the job up after the message went by.
   */
  async requestCancel(id: string): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.cancelRequested(id), '1', 'PX', this.retentionMs)
      .publish(this.keys.cancelChannel, id)
      .exec();
  }

  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.ride(() => this.redis.exists(this.keys.cancelRequested(id)))) === 1;
  }

  /**
   * Read, change, compare-and-set, until the write lands. A write whose
   * answer was lost (the connection dropped, ioredis sent it again) may have
   * landed all the same: a record that reads back exactly as this call wrote
   * it is this call's own write, not someone else's change.
   */
  private update(id: string, change: (current: JobRecord) => JobRecord | null): Promise<JobRecord | null> {
    const tried: LastWrite = {};
    return this.ride(() => this.compareAndSet(id, change, tried));
  }

  private async compareAndSet(
    id: string,
    change: (current: JobRecord) => JobRecord | null,
    tried: LastWrite,
  ): Promise<JobRecord | null> {
    const key = this.keys.record(id);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.redis.get(key);
      if (raw === null) throw new DrydockError(ErrorCode.JOB_NOT_FOUND, `job ${id} not found`);
      if (tried.json !== undefined && tried.next && raw === tried.json) return tried.next;
      const next = change(JSON.parse(raw) as JobRecord);
      if (!next) return null;
      const terminal = isTerminal(next.state);
      const keys = [key, this.keys.dedupOwner(id), this.keys.endings];
      if (terminal) {
        const dedupKey = await this.redis.get(this.keys.dedupOwner(id));
        if (dedupKey) keys.push(dedupKey);
      }
      const json = JSON.stringify(next);
      Object.assign(tried, { json, next });
      const written = await COMPARE_AND_SET.run(this.redis, keys, [
        raw,
        json,
        terminal ? this.retentionMs : 0,
        this.keys.recordChannel,
        id,
        Date.now(),
      ]);
      if (Number(written) === 1) return next;
    }
    throw new DrydockError(ErrorCode.CONFLICT, `job ${id} is being updated too often to change it`);
  }
}

/** What an update last tried to write, kept across the retries of one call. */
interface LastWrite {
  json?: string;
  next?: JobRecord;
}

/** The newest place a filter may start at: after its cursor, and no later than its `untilMs`. */
function startOf(filter: JobFilter): ScanFrom | null {
  const { after, untilMs } = filter;
  if (after && (untilMs === undefined || after.createdAtMs <= untilMs)) return { score: after.createdAtMs, id: after.id };
  return untilMs === undefined ? null : { score: untilMs, id: null };
}

/** `[member, score, member, score, …]` as WITHSCORES answers. */
function pairs(reply: string[]): Array<{ id: string; score: number }> {
  const entries: Array<{ id: string; score: number }> = [];
  for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: reply[i] as string, score: Number(reply[i + 1]) });
  return entries;
}

function matches(record: JobRecord, filter: JobFilter): boolean {
  return (
    (filter.type === undefined || record.type === filter.type) &&
    (filter.state === undefined || record.state === filter.state) &&
    (filter.team === undefined || record.team === filter.team) &&
    (filter.engine === undefined || record.engine === filter.engine)
  );
}
