import { DrydockError, ErrorCode, redisUnavailable } from '@drydock/core';
import { capLine } from '@drydock/docker';
import { type JobEventStore, MAX_APPEND_BATCH } from './event-store';
import { type JobLayer, type JobStep, JobEventKind, type JobEventInput, type LogStream } from './model';
import type { JobRecordStore } from './record-store';

/** What a handler reports while it works. Fire and forget: writes are queued in order. */
export interface JobEmit {
  /** One line of output; `stream` where it came from a process's stdout or stderr. */
  log(message: string, stream?: LogStream): void;
  /** Overall progress 0..1 (null if unknown) and, for pulls and pushes, the layer that moved. */
  progress(progress: number | null, layer?: JobLayer): void;
  /** A build step; `progress` overrides the one its index over count gives. */
  step(step: JobStep, message: string, progress?: number): void;
  /** Resolves once everything emitted so far is stored. */
  drain(): Promise<void>;
  /**
   * True while more is queued for the store than it should hold: a handler
   * relaying an engine stream then stops reading it and awaits drain(), so
   * the engine, not this process's memory, holds a flood of output.
   */
  readonly congested: boolean;
}

/** Relays call this between engine messages: reading pauses while the store catches up. */
export async function keepUp(emit: JobEmit): Promise<void> {
  if (emit.congested) await emit.drain();
}

/** How much LOG output one job may store; past it, lines are counted and dropped. */
export interface LogBudget {
  lines: number;
  bytes: number;
}

export const DEFAULT_LOG_BUDGET: LogBudget = { lines: 100_000, bytes: 16 * 1024 * 1024 };

/** Writes queued, or bytes queued, past which the emitter says it is congested. */
const CONGESTED_WRITES = 256;
const CONGESTED_BYTES = 4 * 1024 * 1024;
/**
 * Writes held for a store that does not answer (Redis away), past which the
 * job gives up: its output from there on is counted, not held, and the job
 * fails REDIS_UNAVAILABLE. Relays stop reading at CONGESTED_WRITES, so only a
 * handler that ignores `congested` gets here.
 */
export const HELD_MAX_WRITES = 10_000;
export const HELD_MAX_BYTES = 32 * 1024 * 1024;

export interface EmitterOptions {
  progressIntervalMs?: number;
  logBudget?: LogBudget;
}

/** Bytes of messages per append call: a flood of long lines goes to Redis in pieces it serves quickly. */
const BATCH_BYTES = 512 * 1024;

/** How many of the queued events the next append takes: up to the store's batch, up to BATCH_BYTES, at least one. */
function batchLength(queued: readonly JobEventInput[]): number {
  let bytes = 0;
  let count = 0;
  while (count < queued.length && count < MAX_APPEND_BATCH) {
    bytes += queued[count]?.message?.length ?? 0;
    if (count > 0 && bytes > BATCH_BYTES) break;
    count++;
  }
  return count;
}

/** Build progress: the steps before this one are done. */
export function stepProgress(step: JobStep): number {
  return step.count > 0 ? Math.min(Math.max((step.index - 1) / step.count, 0), 1) : 0;
}

/** About 10 PROGRESS events a second per job at most. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 100;

interface ProgressUpdate {
  progress: number | null;
  layer: JobLayer | null;
}

/**
 * One job's emitter. Events are appended strictly in the order they were
 * emitted. Only byte-counter progress is coalesced (latest wins, at most one
 * per interval); a layer's change of status, a step, a log line are never
 * dropped, and any pending progress is written before them, so the stored
 * order always matches the emitted order.
 */
export class ThrottledEmitter implements JobEmit {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private pending: ProgressUpdate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProgressAt = Number.NEGATIVE_INFINITY;
  private readonly layerStatus = new Map<string, string>();
  private closed = false;
  private queuedWrites = 0;
  private queuedBytes = 0;
  private readonly intervalMs: number;
  private readonly budget: LogBudget;
  private storedLines = 0;
  private storedBytes = 0;
  private droppedLines = 0;
  private droppedBytes = 0;
  private heldOver = 0;
  /** Events emitted and not yet stored, in order: each flush stores what gathered while the last write was on its way. */
  private readonly batch: JobEventInput[] = [];
  private flushQueued = false;
  /** The record's progress, written once per burst: the events carry each value, the record only the latest. */
  private recordProgress: number | undefined;
  private recordProgressQueued = false;

  constructor(
    private readonly jobId: string,
    private readonly events: JobEventStore,
    private readonly records: JobRecordStore,
    options: EmitterOptions = {},
  ) {
    this.intervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.budget = options.logBudget ?? DEFAULT_LOG_BUDGET;
  }

  get congested(): boolean {
    return this.queuedWrites > CONGESTED_WRITES || this.queuedBytes > CONGESTED_BYTES;
  }

  /** LOG lines dropped past the budget so far. */
  get dropped(): { lines: number; bytes: number } {
    return { lines: this.droppedLines, bytes: this.droppedBytes };
  }

  log(message: string, stream?: LogStream): void {
    if (this.closed) return;
    const line = capLine(message);
    const bytes = Buffer.byteLength(line);
    if (this.droppedLines > 0 || this.storedLines >= this.budget.lines || this.storedBytes + bytes > this.budget.bytes) {
      if (this.droppedLines === 0) this.notice(`Output past this job's budget (${this.budget.lines} lines, ${this.budget.bytes} bytes) is counted and dropped from here on`);
      this.droppedLines++;
      this.droppedBytes += bytes;
      return;
    }
    this.storedLines++;
    this.storedBytes += bytes;
    this.flushPending();
    this.write({ kind: JobEventKind.LOG, message: line, ...(stream ? { stream } : {}) });
  }

  /**
   * Ends the handler's output: writes the count of dropped lines, if any, and
   * waits for the store. The runner calls it before the job's terminal events.
   */
  async finish(): Promise<void> {
    if (this.heldOver > 0) {
      // After all it held, once Redis takes it: the stream says what it lacks.
      const message = `${this.heldOver} events were dropped: more than ${HELD_MAX_WRITES} waited for Redis`;
      this.enqueueUnbounded(() => this.events.append(this.jobId, { kind: JobEventKind.LOG, message }));
    }
    if (this.droppedLines > 0 && !this.closed) {
      this.notice(`${this.droppedLines} lines (${this.droppedBytes} bytes) of output past this job's budget were dropped`);
    }
    await this.drain();
  }

  step(step: JobStep, message: string, progress?: number): void {
    if (this.closed) return;
    this.flushPending();
    this.send({ kind: JobEventKind.PROGRESS, progress: progress ?? stepProgress(step), step, message });
  }

  progress(progress: number | null, layer?: JobLayer): void {
    if (this.closed) return;
    const update: ProgressUpdate = { progress, layer: layer ?? null };
    if (layer && this.layerStatus.get(layer.id) !== layer.status) {
      this.layerStatus.set(layer.id, layer.status);
      this.flushPending();
      this.send({ kind: JobEventKind.PROGRESS, ...update });
      return;
    }
    this.pending = update;
    const wait = this.lastProgressAt + this.intervalMs - Date.now();
    if (wait <= 0) this.flushPending();
    else this.timer ??= setTimeout(() => this.flushPending(), wait);
  }

  /** Writes any pending progress and waits for every queued write; throws the first write failure. */
  async drain(): Promise<void> {
    this.flushPending();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Drops whatever a handler emits from now on (it ended, or was given up on). */
  close(): void {
    this.closed = true;
    this.pending = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flushPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const update = this.pending;
    if (!update) return;
    this.pending = undefined;
    this.send({ kind: JobEventKind.PROGRESS, ...update });
  }

  private send(input: JobEventInput): void {
    this.lastProgressAt = Date.now();
    this.write(input);
    const progress = input.progress;
    if (typeof progress !== 'number') return;
    this.recordProgress = progress;
    if (this.recordProgressQueued) return;
    this.recordProgressQueued = true;
    this.enqueue(() => {
      this.recordProgressQueued = false;
      return this.records.setProgress(this.jobId, this.recordProgress as number);
    });
  }

  /** A LOG event of Drydock's own, outside the budget. */
  private notice(message: string): void {
    this.flushPending();
    this.write({ kind: JobEventKind.LOG, message });
  }

  private write(input: JobEventInput): void {
    const bytes = input.message?.length ?? 0;
    if (!this.admit(bytes)) return;
    this.queuedWrites++;
    this.queuedBytes += bytes;
    this.batch.push(input);
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.chain = this.chain.then(() => this.flush()).then(
      () => undefined,
      (error: unknown) => this.failed(error),
    );
  }

  /** Stores the batch, and what gathers meanwhile, before anything queued after it. */
  private async flush(): Promise<void> {
    try {
      while (this.batch.length) {
        const inputs = this.batch.splice(0, batchLength(this.batch));
        try {
          await this.events.appendMany(this.jobId, inputs);
        } finally {
          this.unqueue(inputs);
        }
      }
    } catch (error) {
      // Not stored, and never will be: the job ended, or the first failure stands for them.
      this.unqueue(this.batch.splice(0));
      throw error;
    } finally {
      this.flushQueued = false;
    }
  }

  private unqueue(inputs: JobEventInput[]): void {
    this.queuedWrites -= inputs.length;
    for (const input of inputs) this.queuedBytes -= input.message?.length ?? 0;
  }

  /** Whether one more write of `bytes` may be held; past the bounds, it is counted and the job is failing. */
  private admit(bytes: number): boolean {
    if (this.heldOver > 0 || this.queuedWrites >= HELD_MAX_WRITES || this.queuedBytes + bytes > HELD_MAX_BYTES) {
      this.heldOver++;
      this.failure ??= redisUnavailable(undefined, `more than ${HELD_MAX_WRITES} events (or ${HELD_MAX_BYTES} bytes) of this job waited for Redis; the rest were dropped`);
      return false;
    }
    return true;
  }

  private enqueue(task: () => Promise<unknown>): void {
    if (this.admit(0)) this.enqueueUnbounded(task);
  }

  private enqueueUnbounded(task: () => Promise<unknown>): void {
    this.queuedWrites++;
    this.chain = this.chain
      .then(task)
      .then(
        () => undefined,
        (error: unknown) => this.failed(error),
      )
      .finally(() => this.queuedWrites--);
  }

  private failed(error: unknown): void {
    // The job ended under the handler (cancelled elsewhere): later emits are moot.
    if (error instanceof DrydockError && error.code === ErrorCode.JOB_FINISHED) this.closed = true;
    else this.failure ??= error;
  }
}
