import { ErrorCode, isDrydockError, isTransient } from '@drydock/core';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { type LogBudget, ThrottledEmitter } from '../emitter';
import type { JobEventBus } from '../event-bus';
import {
  JOB_TYPES,
  type JobError,
  JobEventKind,
  type JobRecord,
  type JobResult,
  JobState,
  JobType,
  isTerminal,
} from '../model';
import type { RedisOutage } from '../redis-outage';
import { bullConnection, type BullConnection, closeBull, type RedisTarget } from '../redis-target';
import { type JobStores, FailedWithResult, endJob, errorMessage, toJobError } from './ending';
import { sweepStrandedEndings } from './endings-sweep';
import type { ExclusiveLeases } from './exclusive-leases';
import { type ExclusiveWork, type JobHandler, TIMEOUT_REASON } from './handler';
import type { JobDataOf } from '../contract';
import { indexHandlers } from './handler-index';
import { queueNameFor } from './queue-name';
import { settlesWithin } from './timing';
import { DEFAULT_ENGINE } from '@drydock/docker';
import { SpanKind } from '@opentelemetry/api';
import { inJobSpan, jobAttributes, splitJobTrace, type QueuedJobData } from './job-trace';

export interface JobWorkerOptions extends JobStores {
  connection: RedisTarget;
  /** Delivers cancel requests from other processes. */
  bus: JobEventBus;
  /** Exactly one per JobType. */
  handlers: readonly JobHandler[];
  queueBase?: string;
  /** The engine whose queues this worker takes jobs from, and that its handlers are told to use. Default `default`. */
  engine?: string;
  /** Jobs run at once per type. Default 2 each. */
  concurrency?: Partial<Record<JobType, number>>;
  /**
   * Where the stores' writes ride through Redis outages (they must be built
   * with its ride). Past its grace period, running jobs are stopped and end
   * FAILED REDIS_UNAVAILABLE once Redis answers again.
   */
  outage?: RedisOutage;
  /**
   * How long a job stays ours without a lock renewal. Default 15 s, or the
   * outage's grace plus 10 s: renewals cannot reach Redis while it is away,
   * and a lock that lapsed in an outage the job rode through would let
   * BullMQ start it again as stalled.
   */
  lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died. Default 10 s. */
  stalledIntervalMs?: number;
  /** Restarts after a lost worker before the job fails WORKER_LOST. Default 1. */
  maxStalledCount?: number;
  /** An ending begun this long ago and not seen through is seen through by this worker (see sweepStrandedEndings); default 30 s. */
  strandedEndingMs?: number;
  progressIntervalMs?: number;
  /** LOG output each run of a job may store; default DEFAULT_LOG_BUDGET. */
  logBudget?: LogBudget;
  /** Jobs of one team and type that run at once, across every worker process (needs `slots`). Default: no limit. */
  maxRunningPerTeam?: Partial<Record<JobType, number>>;
  /**
   * Where handlers' exclusive work is held (see JobHandler.exclusive), for as
   * long as a job's lock: a lease outlives an outage the job rides through.
   * Without it no work is exclusive.
   */
  leases?: ExclusiveLeases;
  /**
   * How long a job whose team is at its running limit (or whose exclusive work another job holds) waits before it is
   * looked at again, unless a slot of its team frees first (the oldest is then
   * woken at once). Default 5000 ms.
   */
  parkMs?: number;
  /** Each type's time limit per attempt; a job's own (lower) `timeoutSeconds` wins. Default: none. */
  timeoutMs?: Partial<Record<JobType, number>>;
  onError?: (error: Error) => void;
  /**
   * Whether jobs can run now (the engine answers). A job fetched while not
   * goes back to wait, its attempt unused; pause() stops the fetching itself.
   */
  canRun?: () => boolean;
}

/** The LOG lines the runner writes about a job's runs, as opposed to the job's own output. */
const RUNNER_NOTE = /^(The worker running this job stopped responding|Restarting attempt \d+|Attempt \d+ of \d+|waiting for .* by job )/;
const RUNNER_NOTES_LOOKBACK = 10;

/** How long a job fetched while jobs cannot run waits before it is looked at again. */
const NOT_NOW_DELAY_MS = 1_000;

const CANCEL_REASON = 'cancelled';
const SHUTDOWN_REASON = 'worker shutting down';
export const DEFAULT_CLOSE_DEADLINE_MS = 30_000;
/** After the deadline aborts them, how long handlers get to notice. */
const ABORT_GRACE_MS = 5_000;
const STALLED_REASON = 'job stalled more than allowable limit';
const REDIS_REASON = 'Redis unreachable past the grace period';
/** How often the worker looks whether an outage has outlasted the grace period. */
const OUTAGE_CHECK_MS = 500;
/** How far the lock outlasts the grace period: time to stop the jobs and write their ending. */
const LOCK_MARGIN_MS = 10_000;
/** setTimeout's ceiling (about 24 days): a longer limit is no limit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The consumer side: runs handlers and turns their outcome into the job's ending. */
export class JobWorker {
  private readonly stores: JobStores;
  private readonly handlers: ReadonlyMap<JobType, JobHandler>;
  private readonly workers: Worker[] = [];
  private readonly connection: BullConnection;
  private readonly progressIntervalMs: number | undefined;
  private readonly logBudget: LogBudget | undefined;
  private readonly maxRunning: Partial<Record<JobType, number>>;
  private readonly parkMs: number;
  private readonly timeoutMs: Partial<Record<JobType, number>>;
  private readonly onError: (error: Error) => void;
  private readonly canRun: () => boolean;
  private readonly stopListening: () => void;
  private readonly outage: RedisOutage | undefined;
  private readonly outageCheck: NodeJS.Timeout | undefined;
  private readonly stopSweeping: () => void;
  private readonly leases: ExclusiveLeases | undefined;
  private readonly leaseMs: number;
  readonly engine: string;
  private gaveUp = false;
  private closing: Promise<void> | undefined;

  constructor(options: JobWorkerOptions) {
    this.handlers = indexHandlers(options.handlers);
    this.engine = options.engine ?? DEFAULT_ENGINE;
    const { records, events, onJobEnded, onJobStarted, slots } = options;
    this.stores = { records, events, onJobEnded, onJobStarted, slots };
    this.maxRunning = options.maxRunningPerTeam ?? {};
    this.parkMs = options.parkMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? {};
    this.progressIntervalMs = options.progressIntervalMs;
    this.logBudget = options.logBudget;
    this.onError = options.onError ?? ((error: Error) => console.error('[jobs] worker:', error));
    this.outage = options.outage;
    const lockDuration = options.lockDurationMs ?? (this.outage ? Math.max(15_000, this.outage.graceMs + LOCK_MARGIN_MS) : 15_000);
    this.canRun = options.canRun ?? (() => true);
    this.leases = options.leases;
    this.leaseMs = lockDuration;
    // Workers block on Redis and must wait through outages rather than fail their fetches.
    this.connection = bullConnection(options.connection, { maxRetriesPerRequest: null });
    for (const type of JOB_TYPES) {
      // The data is what enqueue() took for this queue's type (the contract held it when it was queued), and its trace.
      const worker = new Worker<QueuedJobData, JobResult | undefined>(
        queueNameFor(type, options.queueBase, this.engine),
        // Three parameters: BullMQ only creates the AbortSignal for processors that take one.
        (job, token, signal) => this.process(type, job, token, signal),
        {
          connection: this.connection.connection,
          prefix: records.keys.bullPrefix,
          concurrency: options.concurrency?.[type] ?? 2,
          lockDuration,
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
    const strandedAfterMs = options.strandedEndingMs ?? 30_000;
    this.stopSweeping = sweepStrandedEndings(this.stores, { everyMs: Math.min(10_000, strandedAfterMs), strandedAfterMs, onError: this.onError });
    if (this.outage) {
      this.outageCheck = setInterval(() => this.checkOutage(), OUTAGE_CHECK_MS);
      this.outageCheck.unref();
    }
  }

  /** Past the grace period the engine work stops: nothing it does could be recorded. */
  private checkOutage(): void {
    const pastGrace = this.outage?.pastGrace ?? false;
    if (pastGrace && !this.gaveUp) {
      for (const worker of this.workers) worker.cancelAllJobs(REDIS_REASON);
    }
    this.gaveUp = pastGrace;
  }

  /** Resolves once every queue's worker is connected and fetching. */
  async whenReady(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /** Stops taking jobs (running ones go on): the engine is away, and a job started now would only fail. */
  async pause(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.pause(true)));
  }

  resume(): void {
    if (this.closing) return;
    for (const worker of this.workers) if (worker.isPaused()) worker.resume();
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
    const closed = Promise.all(this.workers.map(closeBull));
    if (!(await settlesWithin(closed, deadlineMs))) {
      for (const worker of this.workers) worker.cancelAllJobs(SHUTDOWN_REASON);
      // Endings waiting for a Redis that is gone would hold the shutdown for ever.
      this.outage?.close();
      if (!(await settlesWithin(closed, ABORT_GRACE_MS))) {
        this.onError(new Error('job handlers ignored their abort signal; the worker closed without them'));
      }
    }
    this.stopListening();
    this.stopSweeping();
    clearInterval(this.outageCheck);
    this.connection.release();
  }

  private async process(
    type: JobType,
    job: Job<QueuedJobData>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JobResult | undefined> {
    const { records, slots } = this.stores;
    const id = job.id;
    const handler = this.handlers.get(type);
    if (!id || !handler || !signal) throw new UnrecoverableError('job without id, handler or signal');
    if (!this.canRun()) {
      // Back to wait without using an attempt: BullMQ counts none for a DelayedError.
      await job.moveToDelayed(Date.now() + NOT_NOW_DELAY_MS, token);
      throw new DelayedError();
    }
    const attempt = job.attemptsMade + 1;

    // Read together: one round trip before the job starts.
    const [before, cancelRequested] = await Promise.all([records.get(id), records.isCancelRequested(id)]);
    // Ended while BullMQ still held it (a cancel that won the race): nothing to run.
    if (!before || isTerminal(before.state)) return undefined;
    if (cancelRequested) {
      await endJob(this.stores, id, JobState.CANCELLED, { message: 'cancelled before it started' });
      throw new UnrecoverableError(CANCEL_REASON);
    }
    const owner = { id, type, team: before.team };
    const { data, trace } = splitJobTrace(job.data);
    // Exclusive work first: a job waiting for it keeps its place among its team's waiting jobs.
    const exclusive = this.leases ? (handler.exclusive?.(data) ?? null) : null;
    if (exclusive && !(await this.takeLease(exclusive, id))) return this.park(job, token);
    const limit = this.maxRunning[type];
    if (slots && limit !== undefined && !(await slots.acquireRunning(owner, limit))) {
      // Not woken: a job waiting for this work would only find the team full too, and wake this one in turn.
      if (exclusive) await this.leases?.release(exclusive.key, id);
      return this.park(job, token);
    }
    const renewal = exclusive ? this.keepLease(exclusive, id) : undefined;
    try {
      // Each attempt is a span of the trace that queued the job (a job queued without one starts its own).
      const attributes = { ...jobAttributes({ id, type, engine: this.engine, team: before.team }), 'drydock.job.attempt': attempt };
      return await inJobSpan(`job ${type.toLowerCase()}`, SpanKind.CONSUMER, attributes, () => this.run(handler, job, data, before, attempt, signal), trace);
    } finally {
      // After every attempt: a job waiting for its retry holds no running slot (an ended one was released already).
      clearInterval(renewal);
      if (slots && limit !== undefined) {
        await slots.releaseRunning(owner).catch(() => undefined);
        await this.wakeNext(owner).catch((error: unknown) => this.report(error));
      }
      // Unreleased (Redis away), the lease lapses on its own.
      if (exclusive) await this.giveLease(type, exclusive, id).catch((error: unknown) => this.report(error));
    }
  }

  /**
   * Back to the delayed set, without using an attempt and without holding
   * this worker's slot, so the jobs behind it start now. It stays QUEUED.
   */
  private async park(job: Job, token: string | undefined): Promise<never> {
    await job.moveToDelayed(Date.now() + this.parkMs, token);
    throw new DelayedError();
  }

  /** True once the job holds the work; false (said in its log on the first refusal) while another job does. */
  private async takeLease(work: ExclusiveWork, id: string): Promise<boolean> {
    if (!this.leases) return true;
    const taken = await this.leases.acquire(work.key, id, this.leaseMs);
    if (taken.held) return true;
    if (taken.firstRefusal) {
      await this.stores.events.append(id, { kind: JobEventKind.LOG, message: `waiting for ${work.label} by job ${taken.holder}` });
    }
    return false;
  }

  /** Renews the lease while the job runs; one that lapsed and was taken is reported, since two jobs now do the same work. */
  private keepLease(work: ExclusiveWork, id: string): NodeJS.Timeout {
    const leases = this.leases;
    const timer = setInterval(() => {
      leases?.renew(work.key, id, this.leaseMs).then(
        (kept) => kept === false && this.onError(new Error(`job ${id} lost its hold on ${work.label} (the lease lapsed)`)),
        // Redis away: the next renewal tries again, within the lease.
        () => undefined,
      );
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return timer;
  }

  /** Gives the work up and wakes the job that has waited longest for it. */
  private async giveLease(type: JobType, work: ExclusiveWork, id: string): Promise<void> {
    const next = await this.leases?.release(work.key, id);
    if (next) await this.promoteIfParked(type, next);
  }

  /** A slot of the team is free: its longest-waiting job of the type, if parked, goes back to the queue now. */
  private async wakeNext({ type, team }: { type: JobType; team: string | null }): Promise<void> {
    const next = await this.stores.slots?.oldestWaiting(team, type);
    if (next) await this.promoteIfParked(type, next);
  }

  private async promoteIfParked(type: JobType, id: string): Promise<void> {
    const worker = this.workers[JOB_TYPES.indexOf(type)];
    if (!worker) return;
    const parked = await Job.fromId(worker, id);
    // Not parked (still in the queue, or taken meanwhile) is fine: it starts when its turn comes.
    if (parked && (await parked.isDelayed())) await parked.promote().catch(() => undefined);
  }

  /** One attempt, once the job holds its team's running slot. */
  private async run(
    handler: JobHandler,
    job: Job<QueuedJobData>,
    data: JobDataOf<JobType>,
    before: JobRecord,
    attempt: number,
    signal: AbortSignal,
  ): Promise<JobResult | undefined> {
    const { records, events } = this.stores;
    const { id, type } = before;
    const maxAttempts = job.opts.attempts ?? 1;
    const resumeAfter = before.state === JobState.QUEUED ? undefined : await this.lastEventAt(id);
    const started = await records.transition(id, JobState.RUNNING, { attempts: attempt });
    if (!started) return undefined;
    if (before.state === JobState.QUEUED) {
      await events.append(id, { kind: JobEventKind.STATE, state: JobState.RUNNING });
      if (this.stores.onJobStarted) await Promise.resolve(this.stores.onJobStarted(started)).catch(() => undefined);
    } else if (before.attempts >= attempt) {
      // Same attempt again: BullMQ re-queued it because its worker died.
      await events.append(id, {
        kind: JobEventKind.LOG,
        message: `Restarting attempt ${attempt} after its worker was lost`,
      });
    } else {
      await events.append(id, { kind: JobEventKind.LOG, message: `Attempt ${attempt} of ${maxAttempts}` });
    }

    const limitSeconds = this.limitSeconds(type, before);
    const deadline = new AbortController();
    // The handler sees one signal: cancel, shutdown and deadline all stop its container or build.
    const handlerSignal = AbortSignal.any([signal, deadline.signal]);
    const emit = new ThrottledEmitter(id, events, records, {
      ...(this.progressIntervalMs !== undefined ? { progressIntervalMs: this.progressIntervalMs } : {}),
      ...(this.logBudget ? { logBudget: this.logBudget } : {}),
    });
    // The clock starts with the handler: the limit is on the job's work, not on the runner's bookkeeping.
    const timer =
      limitSeconds * 1000 <= MAX_TIMER_MS ? setTimeout(() => deadline.abort(TIMEOUT_REASON), limitSeconds * 1000) : undefined;
    try {
      const stillOwned = async (): Promise<boolean> => {
        if (handlerSignal.aborted) return false;
        const [now, cancelRequested] = await Promise.all([records.get(id), records.isCancelRequested(id)]);
        return now?.state === JobState.RUNNING && now.attempts === attempt && !cancelRequested;
      };
      const result = await handler.handle({
        jobId: id,
        type,
        data,
        engine: this.engine,
        signal: handlerSignal,
        attempt,
        emit,
        stillOwned,
        ...(resumeAfter ? { resumeAfter } : {}),
      });
      // Work that finished in time succeeded, however long its last events take to store;
      // a handler that returns after its deadline aborted it (a stopped run) did not.
      clearTimeout(timer);
      const late = deadline.signal.aborted && !signal.aborted;
      await emit.finish();
      // A handler may stop early and return when cancelled: that is still a cancel.
      if (signal.aborted && signal.reason === CANCEL_REASON) return await this.cancelled(id, type, data);
      if (signal.aborted && signal.reason === REDIS_REASON) throw new Error(REDIS_REASON);
      if (late) return await this.timedOut(id, limitSeconds, result);
      await endJob(this.stores, id, JobState.SUCCEEDED, { result });
      return result;
    } catch (error) {
      await emit.finish().catch(() => undefined);
      if (signal.aborted && signal.reason === CANCEL_REASON) return await this.cancelled(id, type, data);
      if (deadline.signal.aborted && !signal.aborted) return await this.timedOut(id, limitSeconds);
      const gaveUp = signal.aborted && signal.reason === REDIS_REASON;
      const failure: JobError = gaveUp
        ? {
            code: ErrorCode.REDIS_UNAVAILABLE,
            message: `Redis was unreachable for more than ${Math.round((this.outage?.graceMs ?? 0) / 1000)} s; the job was stopped`,
          }
        : signal.aborted
          ? { code: ErrorCode.WORKER_LOST, message: `${SHUTDOWN_REASON}: ${errorMessage(error)}` }
          : toJobError(error);
      const retryable = !gaveUp && (signal.aborted || (isDrydockError(error) && isTransient(error.code)));
      if (retryable && attempt < maxAttempts) {
        const wait = backoffDelay(job, attempt);
        await events.append(id, {
          kind: JobEventKind.LOG,
          message: `Attempt ${attempt} of ${maxAttempts} failed (${failure.code}: ${failure.message}); retrying in ${wait} ms`,
        });
        // BullMQ sees the failure and schedules the retry with its backoff.
        throw error;
      }
      const outcome = error instanceof FailedWithResult ? { result: error.result } : {};
      if (await endJob(this.stores, id, JobState.FAILED, { error: failure, ...outcome })) await this.release(type, id, data);
      throw new UnrecoverableError(failure.message);
    } finally {
      clearTimeout(timer);
      emit.close();
    }
  }

  /** The type's limit, or the job's own when lower; Infinity when neither is set. */
  private limitSeconds(type: JobType, record: JobRecord): number {
    const typeLimit = this.timeoutMs[type];
    const own = record.timeoutSeconds;
    return Math.min(typeLimit === undefined ? Infinity : typeLimit / 1000, own ?? Infinity);
  }

  /** Past its deadline the handler was aborted (its container or build stopped); whatever it did then, the job failed. */
  private async timedOut(id: string, limitSeconds: number, result?: JobResult): Promise<never> {
    const error = { code: ErrorCode.JOB_TIMEOUT, message: `the job ran past its ${limitSeconds}-second limit and was stopped` };
    await endJob(this.stores, id, JobState.FAILED, { error, ...(result ? { result } : {}) });
    throw new UnrecoverableError(error.message);
  }

  private async cancelled(id: string, type?: JobType, data?: JobDataOf<JobType>): Promise<never> {
    const ended = await endJob(this.stores, id, JobState.CANCELLED, { message: 'cancelled' });
    if (ended && type && data) await this.release(type, id, data);
    throw new UnrecoverableError(CANCEL_REASON);
  }

  /**
   * Where an earlier run's output stopped: the `at` of the last event it
   * stored, passing over the runner's own notes about its end (written later,
   * by whoever noticed). Passing over one too many only repeats lines; never loses one.
   */
  private async lastEventAt(id: string): Promise<string | undefined> {
    const count = await this.stores.events.count(id);
    const recent = await this.stores.events.range(id, Math.max(1, count - RUNNER_NOTES_LOOKBACK + 1));
    const own = recent.filter((event) => event.kind !== JobEventKind.STATE && !RUNNER_NOTE.test(event.message ?? ''));
    return own.at(-1)?.at ?? recent[0]?.at;
  }

  /** A job ended without succeeding: whatever of it still runs at the engine is stopped. */
  private async release(type: JobType, id: string, data: JobDataOf<JobType>): Promise<void> {
    await this.handlers.get(type)?.release?.(id, data, this.engine).catch((error: unknown) => this.report(error));
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
    if (await endJob(this.stores, id, JobState.FAILED, { error: failure })) {
      await this.release(job.name as JobType, id, splitJobTrace(job.data as QueuedJobData).data);
    }
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

function backoffDelay(job: Job, attempt: number): number {
  const backoff = job.opts.backoff;
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return backoff;
  const base = backoff.delay ?? 0;
  return backoff.type === 'exponential' ? base * 2 ** (attempt - 1) : base;
}
