import { DrydockError, ErrorCode, isDrydockError, isRedisUnreachable, redisUnavailable } from '@drydock/core';
import type { JobEventStore } from '../event-store';
import { type JobError, JobEventKind, type JobRecord, type JobResult, JobState } from '../model';
import type { JobRecordStore } from '../record-store';
import type { TeamSlots } from './team-slots';

/** What both sides of the runner write a job's life to. */
export interface JobStores {
  records: JobRecordStore;
  events: JobEventStore;
  /**
   * Told of every job's end (SUCCEEDED, FAILED, CANCELLED) once, by whichever
   * process ended it; awaited, so the app can record it durably (the audit trail).
   * A hook that fails reports it itself: the ending stands regardless.
   */
  onJobEnded?: (job: JobRecord) => Promise<void> | void;
  /** Told of a new job once its record is QUEUED, by the process that queued it; awaited like onJobEnded. */
  onJobQueued?: (job: JobRecord) => Promise<void> | void;
  /** Told of a job's first start (QUEUED to RUNNING, not a retry), by the worker that started it. */
  onJobStarted?: (job: JobRecord) => Promise<void> | void;
  /** The teams' waiting and running bookkeeping; without it no team limit applies. */
  slots?: TeamSlots;
}

export interface Ending {
  result?: JobResult;
  error?: JobError;
  message?: string;
}

/**
 * Ends a job: the record's transition decides who wins (a cancel and a
 * worker can race), and only the winner writes RESULT/ERROR and the terminal
 * STATE event, which closes the event stream. Null if the job had already ended.
 */
export async function endJob(
  { records, events, onJobEnded, slots }: JobStores,
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
  // A lost release heals itself: the slot scripts drop entries of ended jobs when a team looks full.
  if (slots) await slots.release(record).catch(() => undefined);
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

/**
 * A failure that still has an outcome to show: a RUN whose command exited
 * non-zero ends FAILED with its container and exit code as the result.
 */
export class FailedWithResult extends DrydockError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly result: JobResult,
  ) {
    super(code, message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function toJobError(error: unknown): JobError {
  if (isDrydockError(error)) return { code: error.code, message: error.message };
  if (isRedisUnreachable(error)) return toJobError(redisUnavailable(error, 'Redis was unreachable while the job ran'));
  return { code: ErrorCode.INTERNAL, message: errorMessage(error) };
}
