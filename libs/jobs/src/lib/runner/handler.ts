import type { JobEmit } from '../emitter';
import type { JobDataOf, JobResultOf } from '../contract';
import type { JobType } from '../model';

/** `signal.reason` when the job ran past its time limit (it is then FAILED JOB_TIMEOUT, whatever the handler does). */
export const TIMEOUT_REASON = 'time limit';

/** What a handler gets for one run of one job. */
export interface JobContext<T extends JobType = JobType> {
  jobId: string;
  type: T;
  data: JobDataOf<T>;
  /** The engine the job runs on: the one whose queue it came from. */
  engine: string;
  /** Aborted when the job is cancelled (from any process), runs past its time limit, or the worker shuts down past its deadline. */
  signal: AbortSignal;
  /** 1 on the first run; higher when a transient failure is retried. */
  attempt: number;
  /**
   * When an earlier run of this job (a failed attempt, or the same attempt on
   * a worker that died) stored its last event; absent on a job's first run.
   * A handler that adopts what that run left at the engine passes on only
   * what came after it.
   */
  resumeAfter?: string;
  emit: JobEmit;
  /**
   * True while this attempt still holds the job: RUNNING, at this attempt, no cancel asked.
   * A handler asks it just before a step that cannot be undone (a build's tags), so an
   * attempt that lost the job (its worker thought dead, the job ended) leaves no mark.
   */
  stillOwned(): Promise<boolean>;
}

/**
 * One class per job type. Throw a DrydockError with a transient code
 * (isTransient) to have the job retried; any other error fails it for good.
 */
export interface JobHandler<T extends JobType = JobType> {
  readonly type: T;
  // Method syntax on purpose: a JobHandler<JobType.PULL> is then a JobHandler, and the worker holds them all in one list.
  handle(ctx: JobContext<T>): Promise<JobResultOf<T>>;
  /**
   * Stops whatever of the job still runs at the engine, once the job has
   * ended without succeeding: a job that says FAILED must not go on. Called
   * by the process that wrote the ending, which may not be the one that ran it.
   */
  release?(jobId: string, data: JobDataOf<T>, engine: string): Promise<void>;
  /**
   * Work that must not run twice at once (a push of one repository: two
   * uploads of the same blobs or manifest race at the registry). A job whose
   * key another job holds waits, QUEUED, until that one ends. `label` names the
   * work for the job's log: "the push of localhost:5001/team/app".
   */
  exclusive?(data: JobDataOf<T>): ExclusiveWork | null;
}

export interface ExclusiveWork {
  key: string;
  label: string;
}
