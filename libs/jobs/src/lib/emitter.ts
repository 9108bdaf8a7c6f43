import { DrydockError, ErrorCode } from '@drydock/docker';
import type { JobEventStore } from './event-store';
import { type JobLayer, type JobStep, JobEventKind, type JobEventInput } from './model';
import type { JobRecordStore } from './record-store';

/** What a handler reports while it works. Fire and forget: writes are queued in order. */
export interface JobEmit {
  log(message: string): void;
  /** Overall progress 0..1 (null if unknown) and, for pulls and pushes, the layer that moved. */
  progress(progress: number | null, layer?: JobLayer): void;
  step(step: JobStep, message: string): void;
  /** Resolves once everything emitted so far is stored: a handler relaying a flood of output waits on it now and then. */
  drain(): Promise<void>;
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

  constructor(
    private readonly jobId: string,
    private readonly events: JobEventStore,
    private readonly records: JobRecordStore,
    private readonly intervalMs = DEFAULT_PROGRESS_INTERVAL_MS,
  ) {}

  log(message: string): void {
    if (this.closed) return;
    this.flushPending();
    this.write({ kind: JobEventKind.LOG, message });
  }

  step(step: JobStep, message: string): void {
    if (this.closed) return;
    this.flushPending();
    this.send({ kind: JobEventKind.PROGRESS, progress: stepProgress(step), step, message });
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
    if (typeof progress === 'number') {
      this.enqueue(() => this.records.setProgress(this.jobId, progress));
    }
  }

  private write(input: JobEventInput): void {
    this.enqueue(() => this.events.append(this.jobId, input));
  }

  private enqueue(task: () => Promise<unknown>): void {
    this.chain = this.chain.then(task).then(
      () => undefined,
      (error: unknown) => {
        // The job ended under the handler (cancelled elsewhere): later emits are moot.
        if (error instanceof DrydockError && error.code === ErrorCode.JOB_FINISHED) this.closed = true;
        else this.failure ??= error;
      },
    );
  }
}
