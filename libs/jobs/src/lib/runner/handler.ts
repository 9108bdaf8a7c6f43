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
  /** Aborted when the job is cancelled (from any process), runs past its time limit, or the worker shuts down past its deadline. */
  signal: AbortSignal;
  /** 1 on the first run; higher when a transient failure is retried. */
  attempt: number;
  emit: JobEmit;
}

/**
 * One class per job type. Throw a DrydockError with a transient code
 * (isTransient) to have the job retried; any other error fails it for good.
 */
export interface JobHandler<T extends JobType = JobType> {
  readonly type: T;
  // Method syntax on purpose: a JobHandler<JobType.PULL> is then a JobHandler, and the worker holds them all in one list.
  handle(ctx: JobContext<T>): Promise<JobResultOf<T>>;
}
