import type { JobRecord } from '@drydock/jobs';
import { jobEndingEntry } from '../audit/job-ending';
import type { AuditLog } from '../audit/audit.service';
import type { DrydockMetrics } from '../metrics/drydock-metrics';

/**
 * What a job's end is told to, on either side of the runner (the queue for a
 * job cancelled before it started, a worker for every other): the runner calls
 * it once, in the process that won the ending, so a job is counted once
 * across every process. The audit entry is awaited; the count is not I/O.
 */
export function onJobEnded(audit: AuditLog, metrics: DrydockMetrics | null): (job: JobRecord) => Promise<void> {
  return (job) => {
    metrics?.jobEnded(job);
    return audit.record(jobEndingEntry(job));
  };
}
