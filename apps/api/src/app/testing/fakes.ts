import { DrydockError, ErrorCode } from '@drydock/core';
import { filterImages, type Image, type ImageEvent, type ImageFilter } from '@drydock/docker';
import { EventEmitter } from 'node:events';
import { JobState, type EnqueueOptions, type JobDataOf, type JobRecord, type JobType } from '@drydock/jobs';
import { randomUUID } from 'node:crypto';
import { enqueueOptionsFor, type JobRequest, type JobView } from '../jobs/jobs.service';
import type { FakeEngine } from './fake-engine';

/** The catalogue as a view of the fake engine's images, counting the invalidations a mutation owes it. */
export class FakeCatalog {
  invalidations = 0;
  /** Whether the engine's event stream is open; a spec sets it false to take the engine down. */
  isLive = true;
  private readonly events = new EventEmitter();

  constructor(private readonly engine: FakeEngine) {}

  onImageEvent(listener: (event: ImageEvent) => void): () => void {
    this.events.on('image', listener);
    return () => this.events.off('image', listener);
  }

  /** What the engine's event stream would report. */
  emit(event: ImageEvent): void {
    this.events.emit('image', event);
  }

  async all(): Promise<Image[]> {
    return this.engine.allImages();
  }

  async list(filter: ImageFilter = {}): Promise<Image[]> {
    return filterImages(await this.all(), filter);
  }

  invalidate(): void {
    this.invalidations += 1;
  }
}

export interface Enqueued<T extends JobType = JobType> {
  type: T;
  data: JobDataOf<T>;
  options: EnqueueOptions;
}

/** The jobs service without a queue: it records what would be queued, and keeps the records it answered. */
export class FakeJobs {
  readonly enqueued: Enqueued[] = [];
  private readonly records = new Map<string, JobRecord>();

  /** JobsService.accept: the options it would hand the queue, built by the same function. */
  async accept<T extends JobType>(type: T, data: JobDataOf<T>, job: JobRequest): Promise<JobView> {
    const options = enqueueOptionsFor(job);
    this.enqueued.push({ type, data, options } as Enqueued);
    const record = this.put({ type, team: options.team ?? null, owner: options.owner ?? null, request: options.request ?? (data as Record<string, unknown>) });
    return { ...record, position: 1 };
  }

  /** A record as the store would hold it; `state` QUEUED unless given. */
  put(fields: Partial<JobRecord> & Pick<JobRecord, 'type'>): JobRecord {
    const record: JobRecord = {
      id: randomUUID(),
      state: JobState.QUEUED,
      progress: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      request: {},
      result: null,
      error: null,
      team: null,
      owner: null,
      attempts: 0,
      ...fields,
    };
    this.records.set(record.id, record);
    return record;
  }

  async get(id: string, viewer: { team: string | null; admin: boolean }): Promise<JobRecord> {
    const record = this.records.get(id);
    if (!record || (!viewer.admin && record.team !== viewer.team)) throw new DrydockError(ErrorCode.JOB_NOT_FOUND, `no job ${id}`);
    return record;
  }

  /** The one job queued so far; fails the spec when there is none or more. */
  only(): Enqueued {
    if (this.enqueued.length !== 1) throw new Error(`expected one queued job, found ${this.enqueued.length}`);
    return this.enqueued[0] as Enqueued;
  }
}

/** The credential vault with no stored logins. */
export class FakeVault {
  async credentialFor(): Promise<null> {
    return null;
  }
}

/** The build secret store: ids only, as `team/id`; values never reach a spec of the API side. */
export class FakeBuildSecrets {
  readonly stored = new Set<string>();

  async exists(team: string, ids: readonly string[]): Promise<string[]> {
    return [...new Set(ids)].filter((id) => !this.stored.has(`${team}/${id}`));
  }
}
