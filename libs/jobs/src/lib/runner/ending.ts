import { DrydockError, ErrorCode, isDrydockError, isRedisUnreachable, redisUnavailable } from '@drydock/core';
import type { JobEventStore } from '../event-store';
import { type JobError, type JobEventInput, JobEventKind, type JobRecord, type JobResult, JobState } from '../model';
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
export async function endJob(stores: JobStores, id: string, state: JobState, ending: Ending): Promise<JobRecord | null> {
  const record = await stores.records.transition(id, state, {
    ...(ending.result ? { result: ending.result } : {}),
    ...(ending.error ? { error: ending.error } : {}),
    ...(state === JobState.SUCCEEDED ? { progress: 1 } : {}),
  });
  if (!record) return null;
  await seeEndingThrough(stores, record, ending.message ?? null, { first: true });
  return record;
}

/**
 * What follows an ended record: the team's slot, the closing events, onJobEnded. The transition
 * marked the ending begun (JobKeys.endings) in the same script that ended the record, and this
 * marks it seen through last, so a process that dies in between leaves it to another's sweep
 * (JobWorker), which runs this again: every step is safe to repeat.
 */
export async function seeEndingThrough(stores: JobStores, record: JobRecord, message: string | null, { first = false } = {}): Promise<void> {
  const { records, events, onJobEnded, slots } = stores;
  // A lost release heals itself: the slot scripts drop entries of ended jobs when a team looks full.
  if (slots) await slots.release(record).catch(() => undefined);
  // The call whose transition ended the record is the first to see it through: none of its closing events can be
  // stored yet, so they go in one append with nothing read first (the client following the job waits for them).
  const closing = first ? endingEvents(record, message) : await missingEndingEvents(events, record, message);
  await appendClosing(events, record.id, closing);
  if (onJobEnded) await Promise.resolve(onJobEnded(record)).catch(() => undefined);
  await records.endingSeen(record.id).catch(() => undefined);
}

/** RESULT, ERROR (each if the record has one) and the terminal STATE. */
function endingEvents(record: JobRecord, message: string | null): JobEventInput[] {
  return [
    ...(record.result ? [{ kind: JobEventKind.RESULT, result: record.result }] : []),
    ...(record.error ? [{ kind: JobEventKind.ERROR, error: record.error, message: record.error.message }] : []),
    { kind: JobEventKind.STATE, state: record.state, progress: record.progress, message },
  ];
}

/** All or none, in one round trip; a sweep that saw a slow ending through meanwhile has stored them already. */
async function appendClosing(events: JobEventStore, id: string, closing: JobEventInput[]): Promise<void> {
  try {
    await events.appendMany(id, closing);
  } catch (error) {
    if (!isDrydockError(error) || error.code !== ErrorCode.JOB_FINISHED) throw error;
  }
}

/** The closing events less those a first try already stored. */
async function missingEndingEvents(events: JobEventStore, record: JobRecord, message: string | null): Promise<JobEventInput[]> {
  if (await events.isClosed(record.id)) return [];
  const wanted = endingEvents(record, message);
  // Only an ending appends RESULT or ERROR, and it appends them last: what of them ends the stream is stored.
  const count = await events.count(record.id);
  const tail = count > 0 ? (await events.range(record.id, Math.max(1, count - 1))).map((event) => event.kind) : [];
  for (let stored = Math.min(tail.length, wanted.length - 1); stored > 0; stored--) {
    const kinds = wanted.slice(0, stored).map((event) => event.kind);
    if (tail.slice(-stored).every((kind, i) => kind === kinds[i])) return wanted.slice(stored);
  }
  return wanted;
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
