import { randomUUID } from 'node:crypto';
import { DrydockError, ErrorCode, isDrydockError, redisUnavailable } from '@drydock/core';
import { Queue } from 'bullmq';
import { bullConnection, type BullConnection, closeBull, type RedisTarget } from '../redis-target';
import { JOB_TYPES, JobEventKind, type JobRecord, JobState, JobType, isTerminal } from '../model';
import type { JobDataOf } from '../contract';
import { type JobStores, endJob } from './ending';
import { KeyClaims } from './key-claims';
import { queueNameFor } from './queue-name';
import { DEFAULT_ENGINE } from '@drydock/docker';
import { delay } from './timing';
import { SpanKind } from '@opentelemetry/api';
import { currentJobTrace, inJobSpan, jobAttributes, type QueuedJobData } from './job-trace';

export interface EnqueueOptions {
  team?: string | null;
  owner?: string | null;
  /** The client's Idempotency-Key: the same key, from the same team and owner, for the same job type, answers with the same job. */
  idempotencyKey?: string;
  /** Identical work in flight shares one job: a second enqueue with this key gets the first job while it runs. */
  dedupKey?: string;
  /** What the record shows as `request`, when `data` holds more than clients may see. Default: `data`. */
  request?: Record<string, unknown>;
  /** The job's time limit (the caller has already capped it by the type's); the worker's type limit when absent. */
  timeoutSeconds?: number;
  /** The engine whose queues take the job (the caller has routed it); the first engine when absent. */
  engine?: string;
}

/** An engine's jobs of every type, from its queues: what routing weighs. */
export interface EngineLoad {
  waiting: number;
  running: number;
}

export interface JobQueueOptions extends JobStores {
  /** Where BullMQ connects; the queue's own connections fail fast instead of buffering while Redis is away. */
  connection: RedisTarget;
  queueBase?: string;
  /** The engines jobs go to, each with a queue per type. Default: the one `default` engine. */
  engines?: readonly string[];
  /** Runs per job, counting retries of transient failures. Default 3. */
  attempts?: number;
  /** First retry delay; it doubles each time. Default 2000 ms. */
  backoffMs?: number;
  /** Finished BullMQ jobs kept (our records live on regardless). Default 1000 of each. */
  keepCompleted?: number;
  keepFailed?: number;
  /**
   * Entries BullMQ keeps in each queue's `events` stream (approximately; Redis
   * trims by whole nodes). Drydock reads none of them (its own events are its
   * records' lists), so BullMQ's default of 10,000 per queue is only memory.
   * Default DEFAULT_BULL_EVENTS_MAX_LEN.
   */
  bullEventsMaxLen?: number;
  /** How long cancel() waits for a running job to reach CANCELLED. Default 5000 ms. */
  cancelWaitMs?: number;
  onError?: (error: Error) => void;
  /** Jobs one team may have waiting (of every type) when `slots` is given. Default 100. */
  maxWaitingPerTeam?: number;
}

export const DEFAULT_MAX_WAITING_PER_TEAM = 100;
/** Enough to look at the last few jobs' BullMQ events with redis-cli when debugging. */
export const DEFAULT_BULL_EVENTS_MAX_LEN = 100;

/** The producer side: accepts jobs and cancels them. */
export class JobQueue {
  private readonly stores: JobStores;
  private readonly claims: KeyClaims;
  /** By engine, then type. */
  private readonly queues = new Map<string, Map<JobType, Queue>>();
  private readonly firstEngine: string;
  private readonly connection: BullConnection;
  private readonly cancelWaitMs: number;
  private readonly maxWaitingPerTeam: number;

  constructor(options: JobQueueOptions) {
    const { records, events, onJobEnded, onJobQueued, slots } = options;
    this.stores = { records, events, onJobEnded, onJobQueued, slots };
    this.maxWaitingPerTeam = options.maxWaitingPerTeam ?? DEFAULT_MAX_WAITING_PER_TEAM;
    this.claims = new KeyClaims(records);
    this.cancelWaitMs = options.cancelWaitMs ?? 5000;
    const onError = options.onError ?? ((error: Error) => console.error('[jobs] queue:', error));
    const retentionSeconds = Math.ceil(records.retentionMs / 1000);
    this.connection = bullConnection(options.connection, { enableOfflineQueue: false });
    const engines = options.engines?.length ? options.engines : [DEFAULT_ENGINE];
    this.firstEngine = engines[0] as string;
    for (const engine of engines) {
      const byType = new Map<JobType, Queue>();
      this.queues.set(engine, byType);
      for (const type of JOB_TYPES) {
        const queue = new Queue(queueNameFor(type, options.queueBase, engine), {
          connection: this.connection.connection,
          prefix: records.keys.bullPrefix,
          streams: { events: { maxLen: options.bullEventsMaxLen ?? DEFAULT_BULL_EVENTS_MAX_LEN } },
          defaultJobOptions: {
            attempts: options.attempts ?? 3,
            backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
            removeOnComplete: { age: retentionSeconds, count: options.keepCompleted ?? 1000 },
            removeOnFail: { age: retentionSeconds, count: options.keepFailed ?? 1000 },
          },
        });
        queue.on('error', onError);
        byType.set(type, queue);
      }
    }
  }

  /**
   * Creates the record (QUEUED, with STATE event 1) and then the BullMQ job
   * under the same id, so a worker never sees a job without its record.
   */
  async enqueue<T extends JobType>(type: T, data: JobDataOf<T>, options: EnqueueOptions = {}): Promise<JobRecord> {
    const id = randomUUID();
    const engine = options.engine ?? this.firstEngine;
    const attributes = jobAttributes({ id, type, engine, team: options.team ?? null });
    // The job carries this span's context: its run, in whichever worker, continues the trace (one trace per build).
    return inJobSpan(`enqueue ${type.toLowerCase()}`, SpanKind.PRODUCER, attributes, async (span) => {
      const record = await this.accept(id, type, engine, data, options);
      // An idempotent or deduplicated enqueue answers with an earlier job: the span names the job the caller got.
      span.setAttribute('drydock.job.id', record.id);
      return record;
    });
  }

  private async accept<T extends JobType>(id: string, type: T, engine: string, data: JobDataOf<T>, options: EnqueueOptions): Promise<JobRecord> {
    const { records, events, slots } = this.stores;
    // A client's key is its own: scoped to the caller and the job type, another caller's identical key is another request.
    const idempotencyKey = options.idempotencyKey
      ? `idempotency:${type}:${options.team ?? ''}:${options.owner ?? ''}:${options.idempotencyKey}`
      : undefined;
    const dedupKey = options.dedupKey ? `dedup:${options.dedupKey}` : undefined;
    // Unknown here is a routing bug, not the caller's: the API checked the name against the same list.
    const queue = this.queue(type, engine);
    try {
      if (idempotencyKey) {
        const earlier = await this.claims.claim(idempotencyKey, id, true);
        if (earlier) return earlier;
      }
      if (dedupKey) {
        const running = await this.claims.claim(dedupKey, id, false);
        if (running) {
          if (idempotencyKey) await records.remember(idempotencyKey, running.id);
          return running;
        }
      }
      const owner = { id, type, team: options.team ?? null };
      if (slots) {
        await slots.reserveWaiting(owner, this.maxWaitingPerTeam).catch(async (error: unknown) => {
          // Refused: the keys this request claimed must not answer later requests with a job that never was.
          if (idempotencyKey) await records.forget(idempotencyKey, id).catch(() => undefined);
          if (dedupKey) await records.forget(dedupKey, id).catch(() => undefined);
          throw error;
        });
      }
      const record = await records
        .create({
          id,
          type,
          request: options.request ?? (data as Record<string, unknown>),
          team: owner.team,
          owner: options.owner ?? null,
          dedupKey: dedupKey ?? null,
          timeoutSeconds: options.timeoutSeconds ?? null,
          engine,
        })
        .catch(async (error: unknown) => {
          if (slots) await slots.release(owner).catch(() => undefined);
          throw error;
        });
      await events.append(id, { kind: JobEventKind.STATE, state: JobState.QUEUED });
      try {
        const trace = currentJobTrace();
        const queued: QueuedJobData<T> = trace ? { ...data, trace } : data;
        await queue.add(type, queued, { jobId: id });
      } catch (error) {
        const failure = redisUnavailable(error, 'could not queue the job: Redis is unreachable');
        await endJob(this.stores, id, JobState.FAILED, { error: { code: failure.code, message: failure.message } }).catch(() => undefined);
        if (idempotencyKey) await records.forget(idempotencyKey, id).catch(() => undefined);
        throw failure;
      }
      if (this.stores.onJobQueued) await Promise.resolve(this.stores.onJobQueued(record)).catch(() => undefined);
      return record;
    } catch (error) {
      if (isDrydockError(error)) throw error;
      // Only Redis stands between here and an accepted job: whatever broke, it was Redis.
      throw redisUnavailable(error, 'could not accept the job: Redis is unreachable');
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
    if ((await this.queue(record.type, record.engine ?? DEFAULT_ENGINE).remove(id)) === 1) {
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

  /**
   * An engine's waiting (queued, delayed for a retry) and running jobs, over
   * its queues of every type. Counted by BullMQ, so it is the same for every
   * API process; a job parked for its team's limit counts as waiting.
   */
  async load(engine: string): Promise<EngineLoad> {
    const counts = await Promise.all(
      JOB_TYPES.map((type) => this.queue(type, engine).getJobCounts('waiting', 'prioritized', 'delayed', 'active')),
    );
    let waiting = 0;
    let running = 0;
    for (const count of counts) {
      waiting += (count['waiting'] ?? 0) + (count['prioritized'] ?? 0) + (count['delayed'] ?? 0);
      running += count['active'] ?? 0;
    }
    return { waiting, running };
  }

  /**
   * Each queue's waiting jobs (queued, delayed for a retry, parked for the
   * team's limit), by engine and type: every queue this producer knows, at
   * zero too. One round of BullMQ counts, all queues at once.
   */
  async waitingCounts(): Promise<Array<{ engine: string; type: JobType; waiting: number }>> {
    const queues = [...this.queues].flatMap(([engine, byType]) => [...byType].map(([type, queue]) => ({ engine, type, queue })));
    return Promise.all(
      queues.map(async ({ engine, type, queue }) => {
        const count = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
        return { engine, type, waiting: (count['waiting'] ?? 0) + (count['prioritized'] ?? 0) + (count['delayed'] ?? 0) };
      }),
    );
  }

  /**
   * Caps the jobs of each type that run at once on an engine, across every
   * worker serving it (BullMQ's global concurrency); null lifts the cap.
   */
  async limitEngine(engine: string, concurrency: number | null): Promise<void> {
    await Promise.all(
      JOB_TYPES.map((type) => {
        const queue = this.queue(type, engine);
        return concurrency === null ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(concurrency);
      }),
    );
  }

  async close(): Promise<void> {
    const queues = [...this.queues.values()].flatMap((byType) => [...byType.values()]);
    await Promise.all(queues.map(closeBull));
    this.connection.release();
  }

  private queue(type: JobType, engine: string): Queue {
    const queue = this.queues.get(engine)?.get(type);
    if (!queue) throw new DrydockError(ErrorCode.UNKNOWN_ENGINE, `no queue for ${String(type)} jobs on engine "${engine}"`);
    return queue;
  }
}
