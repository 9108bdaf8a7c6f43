import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import {
  JobEventBus,
  JobQueue,
  JobRecordStore,
  type EnqueueOptions,
  type JobDataOf,
  type JobEvent,
  type JobRecord,
  type JobState,
  type JobType,
} from '@drydock/jobs';
import type { Requester } from '../auth/requester';

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
  /** Identical work in flight shares one job (pulls). */
  dedupKey?: string;
}

/**
 * The one place a caller becomes enqueue options. The queue scopes an
 * Idempotency-Key to job type, team and owner, so these two fields are what
 * makes a retry "the same request"; every feature service must fill them alike.
 */
export function enqueueOptionsFor({ requester, request, dedupKey }: JobRequest): EnqueueOptions {
  return {
    team: requester.team,
    owner: requester.owner,
    ...(requester.idempotencyKey ? { idempotencyKey: requester.idempotencyKey } : {}),
    ...(dedupKey ? { dedupKey } : {}),
    request,
  };
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
  ) {}

  /** A caller's request accepted as a job: a new one, or the one its Idempotency-Key (or identical work in flight) already has. */
  accept<T extends JobType>(type: T, data: JobDataOf<T>, job: JobRequest): Promise<JobRecord> {
    return this.queue.enqueue(type, data, enqueueOptionsFor(job));
  }

  /** A job another team owns is answered as absent, not forbidden: its existence is not theirs to know. */
  async get(id: string, viewer: JobViewer): Promise<JobRecord> {
    const record = JOB_ID.test(id) ? await this.records.get(id) : null;
    if (!record || !this.canSee(record, viewer)) throw new DrydockError(ErrorCode.JOB_NOT_FOUND, `no job ${id}`);
    return record;
  }

  async find(id: string, viewer: JobViewer): Promise<JobRecord | null> {
    const record = JOB_ID.test(id) ? await this.records.get(id) : null;
    return record && this.canSee(record, viewer) ? record : null;
  }

  list(filter: { type?: JobType; state?: JobState; limit?: number }, viewer: JobViewer): Promise<JobRecord[]> {
    return this.records.list({ ...filter, ...(viewer.admin ? {} : { team: viewer.team ?? '' }) });
  }

  async cancel(id: string, viewer: JobViewer): Promise<JobRecord> {
    await this.get(id, viewer);
    return this.queue.cancel(id);
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
