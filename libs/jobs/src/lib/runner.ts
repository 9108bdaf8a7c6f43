import { randomUUID } from 'node:crypto';
import { DrydockError, ErrorCode, isDrydockError, isTransient } from '@drydock/docker';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { type JobEmit, type LogBudget, ThrottledEmitter } from './emitter';
import type { JobEventBus } from './event-bus';
import type { JobEventStore } from './event-store';
import {
  JOB_TYPES,
  type JobError,
  JobEventKind,
  type JobRecord,
  type JobResult,
  JobState,
  JobType,
  isTerminal,
} from './model';
import type { JobRecordStore } from './record-store';

/** What a handler gets for one run of one job. */
export interface JobContext<TData> {
  jobId: string;
  type: JobType;
  data: TData;
  /** Aborted when the job is cancelled (from any process) or the worker shuts down past its deadline. */
  signal: AbortSignal;
  /** 1 on the first run; higher when a transient failure is retried. */
  attempt: number;
  emit: JobEmit;
}

/**
 * One class per job type. Throw a DrydockError with a transient code
 * (isTransient) to have the job retried; any other error fails it for good.
 */
export interface JobHandler<TData = unknown> {
  readonly type: JobType;
  handle(ctx: JobContext<TData>): Promise<JobResult>;
}

export interface EnqueueOptions {
  team?: string | null;
  owner?: string | null;
  /** The client's Idempotency-Key: the same key, from the same team and owner, for the same job type, answers with the same job. */
  idempotencyKey?: string;
  /** Identical work in flight shares one job: a second enqueue with this key gets the first job while it runs. */
  dedupKey?: string;
  /** What the record shows as `request`, when `data` holds more than clients may see. Default: `data`. */
  request?: Record<string, unknown>;
}

export const DEFAULT_QUEUE_BASE = 'jobs';

/**
 * One BullMQ queue per job type rather than one queue with job names: a
 * worker's concurrency is per queue, and a long build must not hold the slots
 * that pulls need, nor a burst of pulls delay a build.
 */
export function queueNameFor(type: JobType, base = DEFAULT_QUEUE_BASE): string {
  return `${base}-${type.toLowerCase()}`;
}

interface Stores {
  records: JobRecordStore;
  events: JobEventStore;
  /**
   * Told of every job's end (SUCCEEDED, FAILED, CANCELLED) once, by whichever
   * process ended it; awaited, so the app can record it durably (the audit trail).
   * A hook that fails reports it itself: the ending stands regardless.
   */
  onJobEnded?: (job: JobRecord) => Promise<void> | void;
}

interface Ending {
  result?: JobResult;
  error?: JobError;
  message?: string;
}

/**
 * Ends a job: the record's transition decides who wins (a cancel and a
 * worker can race), and only the winner writes RESULT/ERROR and the terminal
 * STATE event, which closes the event stream. Null if the job had already ended.
 */
async function endJob(
  { records, events, onJobEnded }: Stores,
  id: string,
  state: JobState,
  ending: Ending,
): Promise<JobRecord | null> {
  const record = await records.transition(id, state, {
    ...(ending.result ? { result: ending.result } : {}),
    ...(ending.error ? { error: ending.error } : {}),
    ...(state === JobState.SUCCEEDED ? { progress: 1 } : {}),
  });
  if (!record) return null;
  if (ending.result) await events.append(id, { kind: JobEventKind.RESULT, result: ending.result });
  if (ending.error) {
    await events.append(id, { kind: JobEventKind.ERROR, error: ending.error, message: ending.error.message });
  }
  await events.append(id, {
    kind: JobEventKind.STATE,
    state,
    progress: record.progress,
    message: ending.message ?? null,
  });
  if (onJobEnded) await Promise.resolve(onJobEnded(record)).catch(() => undefined);
  return record;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toJobError(error: unknown): JobError {
  return isDrydockError(error)
    ? { code: error.code, message: error.message }
    : { code: ErrorCode.INTERNAL, message: errorMessage(error) };
}

export interface JobQueueOptions extends Stores {
  /** Where BullMQ connects; the queue's own connections fail fast instead of buffering while Redis is away. */
  connection: RedisOptions;
  queueBase?: string;
  /** Runs per job, counting retries of transient failures. Default 3. */
  attempts?: number;
  /** First retry delay; it doubles each time. Default 2000 ms. */
  backoffMs?: number;
  /** Finished BullMQ jobs kept (our records live on regardless). Default 1000 of each. */
  keepCompleted?: number;
  keepFailed?: number;
  /** How long cancel() waits for a running job to reach CANCELLED. Default 5000 ms. */
  cancelWaitMs?: number;
  onError?: (error: Error) => void;
}

/** The producer side: accepts jobs and cancels them. */
export class JobQueue {
  private readonly stores: Stores;
  private readonly queues = new Map<JobType, Queue>();
  private readonly cancelWaitMs: number;

  constructor(options: JobQueueOptions) {
    const { records, events, onJobEnded } = options;
    this.stores = { records, events, onJobEnded };
    this.cancelWaitMs = options.cancelWaitMs ?? 5000;
    const onError = options.onError ?? ((error: Error) => console.error('[jobs] queue:', error));
    const retentionSeconds = Math.ceil(records.retentionMs / 1000);
    for (const type of JOB_TYPES) {
      const queue = new Queue(queueNameFor(type, options.queueBase), {
        connection: { ...options.connection, enableOfflineQueue: false },
        prefix: records.keys.bullPrefix,
        defaultJobOptions: {
          attempts: options.attempts ?? 3,
          backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
          removeOnComplete: { age: retentionSeconds, count: options.keepCompleted ?? 1000 },
          removeOnFail: { age: retentionSeconds, count: options.keepFailed ?? 1000 },
        },
      });
      queue.on('error', onError);
      this.queues.set(type, queue);
    }
  }

  /**
   * Creates the record (QUEUED, with STATE event 1) and then the BullMQ job
   * under the same id, so a worker never sees a job without its record.
   */
  async enqueue(type: JobType, data: object, options: EnqueueOptions = {}): Promise<JobRecord> {
    const { records, events } = this.stores;
    const id = randomUUID();
    // A client's key is its own: scoped to the caller and the job type, another caller's identical key is another request.
    const idempotencyKey = options.idempotencyKey
      ? `idempotency:${type}:${options.team ?? ''}:${options.owner ?? ''}:${options.idempotencyKey}`
      : undefined;
    const dedupKey = options.dedupKey ? `dedup:${options.dedupKey}` : undefined;
    try {
      if (idempotencyKey) {
        const earlier = await this.claim(idempotencyKey, id, true);
        if (earlier) return earlier;
      }
      if (dedupKey) {
        const running = await this.claim(dedupKey, id, false);
        if (running) {
          if (idempotencyKey) await records.remember(idempotencyKey, running.id);
          return running;
        }
      }
      const record = await records.create({
        id,
        type,
        request: options.request ?? (data as Record<string, unknown>),
        team: options.team ?? null,
        owner: options.owner ?? null,
        dedupKey: dedupKey ?? null,
      });
      await events.append(id, { kind: JobEventKind.STATE, state: JobState.QUEUED });
      try {
        await this.queue(type).add(type, data, { jobId: id });
      } catch (error) {
        const failure = {
          code: ErrorCode.REDIS_UNAVAILABLE,
          message: `could not queue the job: ${errorMessage(error)}`,
        };
        await endJob(this.stores, id, JobState.FAILED, { error: failure }).catch(() => undefined);
        if (idempotencyKey) await records.forget(idempotencyKey, id).catch(() => undefined);
        throw new DrydockError(ErrorCode.REDIS_UNAVAILABLE, failure.message, { cause: error });
      }
      return record;
    } catch (error) {
      if (isDrydockError(error)) throw error;
      throw new DrydockError(ErrorCode.REDIS_UNAVAILABLE, `could not accept the job: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * A queued (or retry-delayed) job is removed from BullMQ and ends here,
   * never to start. A running one is told to stop through pub/sub and ends
   * CANCELLED in its worker; this waits up to cancelWaitMs for that. Cancelling
   * a cancelled job answers with it; a job that ended otherwise is JOB_FINISHED.
   */
  async cancel(id: string): Promise<JobRecord> {
    const { records } = this.stores;
    const record = await records.require(id);
    if (record.state === JobState.CANCELLED) return record;
    if (isTerminal(record.state)) {
      throw new DrydockError(ErrorCode.JOB_FINISHED, `job ${id} has already ${record.state.toLowerCase()}`);
    }
    // Flag first: a worker that takes the job after this still sees it.
    await records.requestCancel(id);
    // BullMQ refuses to remove a job whose lock a live worker holds; anything else goes.
    if ((await this.queue(record.type).remove(id)) === 1) {
      const ended = await endJob(this.stores, id, JobState.CANCELLED, { message: 'cancelled' });
      if (ended) return ended;
    }
    const deadline = Date.now() + this.cancelWaitMs;
    let current = await records.require(id);
    while (!isTerminal(current.state) && Date.now() < deadline) {
      await delay(50);
      current = await records.require(id);
    }
    return current;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }

  private queue(type: JobType): Queue {
    const queue = this.queues.get(type);
    if (!queue) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `unknown job type ${String(type)}`);
    return queue;
  }

  /**
   * Claims `key` for job `id`, or returns the job that holds it. A holder
   * whose record never appears (its request died in between) is evicted, as
   * is an ended one when ended jobs may not be shared.
   */
  private async claim(key: string, id: string, shareEnded: boolean): Promise<JobRecord | null> {
    const { records } = this.stores;
    for (let tries = 0; tries < 3; tries++) {
      const holder = await records.findOrRemember(key, id);
      if (holder === null) return null;
      const record = await this.awaitRecord(holder);
      if (record && (shareEnded || !isTerminal(record.state))) return record;
      await records.forget(key, holder);
    }
    throw new DrydockError(ErrorCode.CONFLICT, 'another request with the same key is being accepted; retry');
  }

  /** The holder of a key may still be creating its record: give it a moment. */
  private async awaitRecord(id: string): Promise<JobRecord | null> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const record = await this.stores.records.get(id);
      if (record || Date.now() >= deadline) return record;
      await delay(25);
    }
  }
}

export interface JobWorkerOptions extends Stores {
  connection: RedisOptions;
  /** Delivers cancel requests from other processes. */
  bus: JobEventBus;
  /** Exactly one per JobType. */
  handlers: readonly JobHandler<unknown>[];
  queueBase?: string;
  /** Jobs run at once per type. Default 2 each. */
  concurrency?: Partial<Record<JobType, number>>;
  /** How long a job stays ours without a lock renewal. Default 15 s. */
  lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died. Default 10 s. */
  stalledIntervalMs?: number;
  /** Restarts after a lost worker before the job fails WORKER_LOST. Default 1. */
  maxStalledCount?: number;
  progressIntervalMs?: number;
  /** LOG output each run of a job may store; default DEFAULT_LOG_BUDGET. */
  logBudget?: LogBudget;
  onError?: (error: Error) => void;
}

const CANCEL_REASON = 'cancelled';
const SHUTDOWN_REASON = 'worker shutting down';
export const DEFAULT_CLOSE_DEADLINE_MS = 30_000;
/** After the deadline aborts them, how long handlers get to notice. */
const ABORT_GRACE_MS = 5_000;
const STALLED_REASON = 'job stalled more than allowable limit';

/** The consumer side: runs handlers and turns their outcome into the job's ending. */
export class JobWorker {
  private readonly stores: Stores;
  private readonly handlers: ReadonlyMap<JobType, JobHandler<unknown>>;
  private readonly workers: Worker[] = [];
  private readonly progressIntervalMs: number | undefined;
  private readonly logBudget: LogBudget | undefined;
  private readonly onError: (error: Error) => void;
  private readonly stopListening: () => void;
  private closing: Promise<void> | undefined;

  constructor(options: JobWorkerOptions) {
    this.handlers = indexHandlers(options.handlers);
    const { records, events, onJobEnded } = options;
    this.stores = { records, events, onJobEnded };
    this.progressIntervalMs = options.progressIntervalMs;
    this.logBudget = options.logBudget;
    this.onError = options.onError ?? ((error: Error) => console.error('[jobs] worker:', error));
    for (const type of JOB_TYPES) {
      const worker = new Worker<unknown, JobResult | undefined>(
        queueNameFor(type, options.queueBase),
        // Three parameters: BullMQ only creates the AbortSignal for processors that take one.
        (job, _token, signal) => this.process(type, job, signal),
        {
          connection: { ...options.connection, maxRetriesPerRequest: null },
          prefix: records.keys.bullPrefix,
          concurrency: options.concurrency?.[type] ?? 2,
          lockDuration: options.lockDurationMs ?? 15_000,
          stalledInterval: options.stalledIntervalMs ?? 10_000,
          maxStalledCount: options.maxStalledCount ?? 1,
        },
      );
      worker.on('failed', (job, error) => {
        if (job) this.afterFailed(job, error).catch((e: unknown) => this.report(e));
      });
      worker.on('stalled', (jobId) => this.afterStalled(jobId).catch((e: unknown) => this.report(e)));
      worker.on('error', (error) => this.onError(error));
      this.workers.push(worker);
    }
    this.stopListening = options.bus.onCancelRequested((jobId) => {
      for (const worker of this.workers) worker.cancelJob(jobId, CANCEL_REASON);
    });
  }

  /** Resolves once every queue's worker is connected and fetching. */
  async whenReady(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /**
   * For SIGTERM: stop taking jobs, give running ones `deadlineMs` to finish,
   * then abort them (they are retried elsewhere, or fail WORKER_LOST on their
   * last attempt). A handler that ignores its signal even then is left behind.
   */
  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs);
    return this.closing;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const closed = Promise.all(this.workers.map((worker) => worker.close()));
    if (!(await settlesWithin(closed, deadlineMs))) {
      for (const worker of this.workers) worker.cancelAllJobs(SHUTDOWN_REASON);
      if (!(await settlesWithin(closed, ABORT_GRACE_MS))) {
        this.onError(new Error('job handlers ignored their abort signal; the worker closed without them'));
      }
    }
    this.stopListening();
  }

  private async process(
    type: JobType,
    job: Job<unknown>,
    signal: AbortSignal | undefined,
  ): Promise<JobResult | undefined> {
    const { records, events } = this.stores;
    const id = job.id;
    const handler = this.handlers.get(type);
    if (!id || !handler || !signal) throw new UnrecoverableError('job without id, handler or signal');
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;

    const before = await records.get(id);
    // Ended while BullMQ still held it (a cancel that won the race): nothing to run.
    if (!before || isTerminal(before.state)) return undefined;
    if (await records.isCancelRequested(id)) {
      await endJob(this.stores, id, JobState.CANCELLED, { message: 'cancelled before it started' });
      throw new UnrecoverableError(CANCEL_REASON);
    }
    if (!(await records.transition(id, JobState.RUNNING, { attempts: attempt }))) return undefined;
    if (before.state === JobState.QUEUED) {
      await events.append(id, { kind: JobEventKind.STATE, state: JobState.RUNNING });
    } else if (before.attempts >= attempt) {
      // Same attempt again: BullMQ re-queued it because its worker died.
      await events.append(id, {
        kind: JobEventKind.LOG,
        message: `Restarting attempt ${attempt} after its worker was lost`,
      });
    } else {
      await events.append(id, { kind: JobEventKind.LOG, message: `Attempt ${attempt} of ${maxAttempts}` });
    }

    const emit = new ThrottledEmitter(id, events, records, {
      ...(this.progressIntervalMs !== undefined ? { progressIntervalMs: this.progressIntervalMs } : {}),
      ...(this.logBudget ? { logBudget: this.logBudget } : {}),
    });
    try {
      const result = await handler.handle({ jobId: id, type, data: job.data, signal, attempt, emit });
      await emit.finish();
      // A handler may stop early and return when cancelled: that is still a cancel.
      if (signal.aborted && signal.reason === CANCEL_REASON) return await this.cancelled(id);
      await endJob(this.stores, id, JobState.SUCCEEDED, { result });
      return result;
    } catch (error) {
      await emit.finish().catch(() => undefined);
      if (signal.aborted && signal.reason === CANCEL_REASON) return await this.cancelled(id);
      const failure: JobError = signal.aborted
        ? { code: ErrorCode.WORKER_LOST, message: `${SHUTDOWN_REASON}: ${errorMessage(error)}` }
        : toJobError(error);
      const retryable = signal.aborted || (isDrydockError(error) && isTransient(error.code));
      if (retryable && attempt < maxAttempts) {
        const wait = backoffDelay(job, attempt);
        await events.append(id, {
          kind: JobEventKind.LOG,
          message: `Attempt ${attempt} of ${maxAttempts} failed (${failure.code}: ${failure.message}); retrying in ${wait} ms`,
        });
        // BullMQ sees the failure and schedules the retry with its backoff.
        throw error;
      }
      await endJob(this.stores, id, JobState.FAILED, { error: failure });
      throw new UnrecoverableError(failure.message);
    } finally {
      emit.close();
    }
  }

  private async cancelled(id: string): Promise<never> {
    await endJob(this.stores, id, JobState.CANCELLED, { message: 'cancelled' });
    throw new UnrecoverableError(CANCEL_REASON);
  }

  /**
   * Catches the endings the processor never saw: a job that stalled too
   * often (BullMQ fails it without calling us) or whose processing broke
   * down before it could write its own ending.
   */
  private async afterFailed(job: Job, error: Error): Promise<void> {
    const id = job.id;
    if (!id) return;
    const record = await this.stores.records.get(id);
    if (!record || isTerminal(record.state)) return;
    // BullMQ stamps finishedOn only when it gives up; otherwise another attempt is scheduled.
    if (!job.finishedOn) return;
    const failure: JobError = error.message.includes(STALLED_REASON)
      ? { code: ErrorCode.WORKER_LOST, message: `the worker running this job stopped responding (${error.message})` }
      : toJobError(error);
    await endJob(this.stores, id, JobState.FAILED, { error: failure });
  }

  private async afterStalled(id: string): Promise<void> {
    const record = await this.stores.records.get(id);
    if (!record || isTerminal(record.state)) return;
    await this.stores.events.append(id, {
      kind: JobEventKind.LOG,
      message: 'The worker running this job stopped responding; the job was put back in the queue',
    });
  }

  private report(error: unknown): void {
    if (isDrydockError(error) && error.code === ErrorCode.JOB_FINISHED) return;
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }
}

/** immich's rule: a job type with no handler, or two, is a start-up error, not a stuck queue. */
function indexHandlers(handlers: readonly JobHandler<unknown>[]): Map<JobType, JobHandler<unknown>> {
  const byType = new Map<JobType, JobHandler<unknown>>();
  for (const handler of handlers) {
    const other = byType.get(handler.type);
    if (other) {
      throw new Error(
        `two handlers for ${handler.type} jobs: ${other.constructor.name} and ${handler.constructor.name}`,
      );
    }
    byType.set(handler.type, handler);
  }
  const missing = JOB_TYPES.filter((type) => !byType.has(type));
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')} jobs`);
  return byType;
}

function backoffDelay(job: Job, attempt: number): number {
  const backoff = job.opts.backoff;
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return backoff;
  const base = backoff.delay ?? 0;
  return backoff.type === 'exponential' ? base * 2 ** (attempt - 1) : base;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
