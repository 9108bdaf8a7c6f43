import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobEventBus } from '../lib/event-bus';
import type { BuildJobData } from '../lib/handlers/build.job';
import type { PullJobData } from '../lib/handlers/pull.job';
import type { PushJobData } from '../lib/handlers/push.job';
import { JobEventStore } from '../lib/event-store';
import { JOB_TYPES, JobEventKind, type JobEvent, type JobResult, JobType } from '../lib/model';
import { JobRecordStore } from '../lib/record-store';
import {
  type JobContext,
  type JobHandler,
  JobQueue,
  type JobQueueOptions,
  JobWorker,
  type JobWorkerOptions,
  queueNameFor,
} from '../lib/runner';
import { collect, connectTestRedis, removeKeys, testPrefix, testRedisOptions, testRedisTarget } from './redis';

const filePrefix = testPrefix();
let harnessCount = 0;

export type Handle = (ctx: JobContext<JobType.PULL>) => Promise<JobResult>;

/** A fake for any type; fakes return partial results (`{}`), which the contract keeps real handlers from doing. */
export function handler(type: JobType, handle: Handle = async () => ({})): JobHandler {
  return { type, handle } as unknown as JobHandler;
}

/** A pull's data; tests tell jobs apart by the reference. */
export function pullData(reference: string): PullJobData {
  return { reference, repository: reference, tagOrDigest: 'latest', registry: 'docker.io', team: null };
}

export function pushData(): PushJobData {
  return { repository: 'app', tag: '1', tags: ['1'], registry: 'docker.io', team: null };
}

export function buildData(): BuildJobData {
  return { contextId: 'context', dockerfile: 'Dockerfile', baseRegistries: [], tags: ['app:1'], team: null };
}

/** One "process": its own prefix, connection, stores, bus, queue and (once started) worker. */
export class Harness {
  readonly prefix = `${filePrefix}:${++harnessCount}`;
  readonly redis: Redis = connectTestRedis();
  readonly records = new JobRecordStore(this.redis, { prefix: this.prefix, retentionMs: 60_000 });
  readonly events = new JobEventStore(this.redis, { prefix: this.prefix, retentionMs: 60_000 });
  readonly bus = new JobEventBus(this.redis, this.events);
  readonly queue: JobQueue;
  private readonly workers: JobWorker[] = [];
  private readonly extraQueues: Queue[] = [];

  constructor(options: Partial<JobQueueOptions> = {}) {
    this.queue = new JobQueue({
      connection: testRedisTarget(),
      records: this.records,
      events: this.events,
      backoffMs: 10,
      ...options,
    });
  }

  async startWorker(pull: Handle, options: Partial<JobWorkerOptions> = {}): Promise<JobWorker> {
    const worker = new JobWorker({
      connection: testRedisTarget(),
      records: this.records,
      events: this.events,
      bus: this.bus,
      // Every type has one, so a new job type needs no entry here.
      handlers: [handler(JobType.PULL, pull), ...JOB_TYPES.filter((type) => type !== JobType.PULL).map((type) => handler(type))],
      ...options,
    });
    this.workers.push(worker);
    await worker.whenReady();
    return worker;
  }

  /** BullMQ's own view of a job, to prove what it will (not) do next. */
  async bullState(id: string): Promise<string> {
    return this.pullQueue().getJobState(id);
  }

  /** The PULL job as BullMQ holds it: what a worker will be given. */
  async bullJob(id: string): Promise<Job> {
    const job = await Job.fromId(this.pullQueue(), id);
    if (!job) throw new Error(`BullMQ has no job ${id}`);
    return job;
  }

  private pullQueue(): Queue {
    const queue = new Queue(queueNameFor(JobType.PULL), {
      connection: testRedisOptions(),
      prefix: this.records.keys.bullPrefix,
    });
    this.extraQueues.push(queue);
    return queue;
  }

  /** Every event of the job, through its end. */
  history(id: string): Promise<JobEvent[]> {
    return collect(this.bus.follow(id));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close(1000)));
    await Promise.all([this.queue.close(), ...this.extraQueues.map((queue) => queue.close()), this.bus.close()]);
    await removeKeys(this.redis, this.prefix);
    await this.redis.quit();
  }
}

const harnesses: Harness[] = [];
export function harness(options?: Partial<JobQueueOptions>): Harness {
  const created = new Harness(options);
  harnesses.push(created);
  return created;
}

/** For afterEach: closes every harness the test made and removes its keys. */
export async function closeHarnesses(): Promise<void> {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
}

/** Resolves once the handler has started; lets the test hold it running. */
export function started(): { wait: Promise<void>; signal: () => void } {
  let signal = (): void => undefined;
  const wait = new Promise<void>((resolve) => (signal = resolve));
  return { wait, signal };
}

export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new Error(`aborted: ${String(signal.reason)}`));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

export const kinds = (events: JobEvent[]) => events.map((e) => (e.kind === JobEventKind.STATE ? `STATE ${e.state}` : e.kind));
