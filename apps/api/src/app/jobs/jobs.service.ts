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

/** Who asks: jobs are visible to their own team and to admins. */
export interface JobViewer {
  team: string | null;
  admin: boolean;
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

  enqueue<T extends JobType>(type: T, data: JobDataOf<T>, options: EnqueueOptions): Promise<JobRecord> {
    return this.queue.enqueue(type, data, options);
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
