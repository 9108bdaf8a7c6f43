import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import {
  JobEventBus,
  JobQueue,
  JobRecordStore,
  JobState,
  TeamSlots,
  decodeJobCursor,
  encodeJobCursor,
  type JobFilter,
  type EnqueueOptions,
  type JobDataOf,
  type JobEvent,
  type JobRecord,
  type JobType,
} from '@drydock/jobs';
import type { Requester } from '../auth/requester';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** Who asks: jobs are visible to their own team and to admins. */
export interface JobViewer {
  team: string | null;
  admin: boolean;
}

/** What a feature service hands over when a caller's request becomes a job. */
export interface JobRequest {
  /** Who asked (team and owner from the token) and, if sent, their Idempotency-Key. */
  requester: Requester;
  /** The record's `request`: what clients may see of the data. */
  request: Record<string, unknown>;
  /** The engine the request was routed to (EngineRouter): its queues take the job. */
  engine: string;
  /** Identical work in flight on the same engine shares one job (pulls). */
  dedupKey?: string;
  /** The caller's time limit, if lower than the type's. */
  timeoutSeconds?: number | null;
}

/**
 * The one place a caller becomes enqueue options. The queue scopes an
 * Idempotency-Key to job type, team and owner, so these two fields are what
 * makes a retry "the same request"; every feature service must fill them alike.
 */
export function enqueueOptionsFor({ requester, request, dedupKey, engine }: Omit<JobRequest, 'timeoutSeconds'>): EnqueueOptions {
  return {
    team: requester.team,
    owner: requester.owner,
    engine,
    ...(requester.idempotencyKey ? { idempotencyKey: requester.idempotencyKey } : {}),
    // The same pull on two engines is two pulls: each engine needs its own copy.
    ...(dedupKey ? { dedupKey: `${engine}:${dedupKey}` } : {}),
    request,
  };
}

/** A job as clients see it: the record, and its place in its team's queue while it waits. */
export type JobView = JobRecord & { position: number | null };

/** `GET /v1/jobs` and `jobs(...)`: what a caller may ask for, as it arrives (GraphQL sends an explicit null as null). */
export interface JobListQuery {
  type?: JobType | null;
  state?: JobState | null;
  engine?: string | null;
  team?: string | null;
  since?: string | null;
  until?: string | null;
  cursor?: string | null;
  limit?: number | null;
}

/**
 * Everything checked before Redis is asked: a non-admin sees their own team's
 * jobs, and naming another team is refused rather than silently narrowed.
 */
function filterOf({ type, state, engine, team, since, until, cursor, limit }: JobListQuery, viewer: JobViewer): JobFilter {
  if (!viewer.admin && team != null && team !== viewer.team) {
    throw new DrydockError(ErrorCode.FORBIDDEN, "only admins may list another team's jobs");
  }
  const sinceMs = since == null ? undefined : timeOf('since', since);
  const untilMs = until == null ? undefined : timeOf('until', until);
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs > untilMs) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'since must not be later than until');
  }
  const viewerTeam = viewer.admin ? team : (viewer.team ?? '');
  return {
    ...(type ? { type } : {}),
    ...(state ? { state } : {}),
    ...(engine ? { engine } : {}),
    ...(viewerTeam != null ? { team: viewerTeam } : {}),
    ...(sinceMs !== undefined ? { sinceMs } : {}),
    ...(untilMs !== undefined ? { untilMs } : {}),
    ...(cursor != null ? { after: decodeJobCursor(cursor) } : {}),
    ...(limit != null ? { limit } : {}),
  };
}

/** The DTO checks the form; a service caller that skipped it still gets a 400, not an Invalid Date. */
function timeOf(name: string, value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name} must be an ISO 8601 time`);
  return ms;
}

/** Job ids are UUIDs; anything else is answered as absent without a Redis round trip. */
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Jobs as clients see them; the one service under the jobs controller and resolver. */
@Injectable()
export class JobsService {
  constructor(
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobRecordStore) private readonly records: JobRecordStore,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(TeamSlots) private readonly slots: TeamSlots,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A caller's request accepted as a job: a new one, or the one its Idempotency-Key (or identical
   * work in flight) already has. A request's `timeoutSeconds` is capped by its type's limit;
   * without one the job has the type's.
   */
  async accept<T extends JobType>(type: T, data: JobDataOf<T>, job: JobRequest): Promise<JobView> {
    const limit = this.config.jobTimeoutSeconds[type];
    const asked = job.timeoutSeconds;
    if (asked != null && (!Number.isInteger(asked) || asked < 1)) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'timeoutSeconds must be a positive whole number of seconds');
    }
    const timeoutSeconds = Math.min(asked ?? limit, limit);
    const [view] = await this.withPositions([await this.queue.enqueue(type, data, { ...enqueueOptionsFor(job), timeoutSeconds })]);
    return view as JobView;
  }

  /** A job another team owns is answered as absent, not forbidden: its existence is not theirs to know. */
  async get(id: string, viewer: JobViewer): Promise<JobView> {
    const record = await this.find(id, viewer);
    if (!record) throw new DrydockError(ErrorCode.JOB_NOT_FOUND, `no job ${id}`);
    return record;
  }

  async find(id: string, viewer: JobViewer): Promise<JobView | null> {
    const record = JOB_ID.test(id) ? await this.records.get(id) : null;
    if (!record || !this.canSee(record, viewer)) return null;
    const [view] = await this.withPositions([record]);
    return view ?? null;
  }

  async list(query: JobListQuery, viewer: JobViewer): Promise<JobView[]> {
    return (await this.page(query, viewer)).items;
  }

  /** One page, newest first; `nextCursor` goes on from its end (null: nothing older is left). */
  async page(query: JobListQuery, viewer: JobViewer): Promise<{ items: JobView[]; nextCursor: string | null }> {
    const page = await this.records.page(filterOf(query, viewer));
    return { items: await this.withPositions(page.items), nextCursor: page.next ? encodeJobCursor(page.next) : null };
  }

  async cancel(id: string, viewer: JobViewer): Promise<JobView> {
    await this.get(id, viewer);
    const [view] = await this.withPositions([await this.queue.cancel(id)]);
    return view as JobView;
  }

  /** One ZRANK per waiting job, in one round trip; every other job's position is null. */
  private async withPositions(records: JobRecord[]): Promise<JobView[]> {
    const waiting = records.filter((record) => record.state === JobState.QUEUED);
    const positions = await this.slots.positions(waiting);
    const byId = new Map(waiting.map((record, i) => [record.id, positions[i] ?? null]));
    return records.map((record) => ({ ...record, position: byId.get(record.id) ?? null }));
  }

  /** Replays from `fromSequence`, then follows live; ends after the terminal event or when `signal` aborts. */
  async events(id: string, fromSequence: number, signal: AbortSignal, viewer: JobViewer): Promise<AsyncGenerator<JobEvent>> {
    await this.get(id, viewer);
    return this.bus.follow(id, fromSequence, signal);
  }

  watch(filter: { type?: JobType; state?: JobState }, signal: AbortSignal, viewer: JobViewer): AsyncGenerator<JobRecord> {
    const records = this.bus.watchJobs(signal, filter);
    const canSee = (record: JobRecord) => this.canSee(record, viewer);
    return (async function* visible() {
      for await (const record of records) if (canSee(record)) yield record;
    })();
  }

  private canSee(record: JobRecord, viewer: JobViewer): boolean {
    return viewer.admin || (record.team !== null && record.team === viewer.team);
  }
}
