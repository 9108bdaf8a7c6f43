import type { BuildJobData } from './handlers/build.job';
import type { PullJobData } from './handlers/pull.job';
import type { PushJobData } from './handlers/push.job';
import type { RunJobData } from './handlers/run.job';
import type { JobResult, JobType } from './model';

/** `docker save` of one or several references, already checked against the team's namespaces. */
export interface ExportJobData {
  references: string[];
  team: string | null;
}

/** What a pull or push leaves behind: the image, its tags and (when the registry named it) the digest. */
export type TransferJobResult = Required<Pick<JobResult, 'imageId' | 'tags'>> & Pick<JobResult, 'digest'>;

/**
 * The job contract: per job type, what it is queued with and what it ends
 * with. A new job type is an entry here, a handler and its endpoints; the
 * compiler then holds enqueue() and the handler to the same shape.
 */
export interface JobDataMap {
  [JobType.PULL]: { data: PullJobData; result: TransferJobResult };
  [JobType.PUSH]: { data: PushJobData; result: TransferJobResult };
  [JobType.BUILD]: { data: BuildJobData; result: Required<Pick<JobResult, 'imageId' | 'tags'>> & Pick<JobResult, 'steps' | 'cachedSteps'> };
  [JobType.RUN]: { data: RunJobData; result: Required<Pick<JobResult, 'containerId' | 'exitCode'>> };
  [JobType.EXPORT]: { data: ExportJobData; result: Required<Pick<JobResult, 'tags' | 'artifactBytes'>> };
}

export type JobDataOf<T extends JobType> = JobDataMap[T]['data'];
export type JobResultOf<T extends JobType> = JobDataMap[T]['result'];

/** Fails to compile when a job type has no entry, or an entry's result is not what a record stores. */
type Exhaustive<M extends { [K in JobType]: { data: object; result: JobResult } }> = M;
export type CheckedJobDataMap = Exhaustive<JobDataMap>;
