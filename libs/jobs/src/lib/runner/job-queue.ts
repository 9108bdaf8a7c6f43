import { randomUUID } from 'node:crypto';
import { DrydockError, ErrorCode, isDrydockError, redisUnavailable } from '@drydock/core';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { bullConnection, type RedisTarget } from '../redis-target';
import { JOB_TYPES, JobEventKind, type JobRecord, JobState, JobType, isTerminal } from '../model';
import type { JobDataOf } from '../contract';
import { type JobStores, endJob } from './ending';
import { KeyClaims } from './key-claims';
import { queueNameFor } from './queue-name';
import { delay } from './timing';

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
}

export interface JobQueueOptions extends JobStores {
  /** Where BullMQ connects; the queue's own connections fail fast instead of buffering while Redis is away. */
  connection: RedisTarget;
  queueBase?: string;
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
  private readonly queues = new Map<JobType, Queue>();
  private readonly connection: ReturnType<typeof bullConnection>;
  private readonly cancelWaitMs: number;
  private readonly maxWaitingPerTeam: number;

  constructor(options: JobQueueOptions) {
    const { records, events, onJobEnded, slots } = options;
    this.stores = { records, events, onJobEnded, slots };
    this.maxWaitingPerTeam = options.maxWaitingPerTeam ?? DEFAULT_MAX_WAITING_PER_TEAM;
    this.claims = new KeyClaims(records);
    this.cancelWaitMs = options.cancelWaitMs ?? 5000;
    const onError = options.onError ?? ((error: Error) => console.error('[jobs] queue:', error));
    const retentionSeconds = Math.ceil(records.retentionMs / 1000);
    this.connection = bullConnection(options.connection, { enableOfflineQueue: false });
    for (const type of JOB_TYPES) {
      const queue = new Queue(queueNameFor(type, options.queueBase), {
        connection: this.connection,
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
      this.queues.set(type, queue);
    }
  }

  /**
   * Creates the record (QUEUED, with STATE event 1) and then the BullMQ job
   * under the same id, so a worker never sees a job without its record.
   */
  async enqueue<T extends JobType>(type: T, data: JobDataOf<T>, options: EnqueueOptions = {}): Promise<JobRecord> {
    const { records, events, slots } = this.stores;
    const id = randomUUID();
    // A client's key is its own: scoped to the caller and the job type, another caller's identical key is another request.
    const idempotencyKey = options.idempotencyKey
      ? `idempotency:${type}:${options.team ?? ''}:${options.owner ?? ''}:${options.idempotencyKey}`
      : undefined;
    const dedupKey = options.dedupKey ? `dedup:${options.dedupKey}` : undefined;
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
        })
        .catch(async (error: unknown) => {
          if (slots) await slots.release(owner).catch(() => undefined);
          throw error;
        });
      await events.append(id, { kind: JobEventKind.STATE, state: JobState.QUEUED });
      try {
        await this.queue(type).add(type, data, { jobId: id });
      } catch (error) {
        const failure = redisUnavailable(error, 'could not queue the job: Redis is unreachable');
        await endJob(this.stores, id, JobState.FAILED, { error: { code: failure.code, message: failure.message } }).catch(() => undefined);
        if (idempotencyKey) await records.forget(idempotencyKey, id).catch(() => undefined);
        throw failure;
      }
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
    // BullMQ closes the connections it made, never one it was given.
    if (this.connection instanceof Cluster) this.connection.disconnect();
  }

  private queue(type: JobType): Queue {
    const queue = this.queues.get(type);
    if (!queue) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `unknown job type ${String(type)}`);
    return queue;
  }
}
