import type { JobEmit } from '../emitter';
import type { JobResult, JobType } from '../model';

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
