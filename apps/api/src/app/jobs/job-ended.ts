import type { JobQueueOptions, JobRecord, JobWorkerOptions } from '@drydock/jobs';
import { jobEndingEntry } from '../audit/job-ending';
import type { AuditLog } from '../audit/audit.service';
import type { DrydockMetrics } from '../metrics/drydock-metrics';
import { endingEvents, queuedEvent, startedEvent } from '../webhooks/webhook-events';
import type { WebhookDispatcher } from '../webhooks/webhook-queue';

/**
 * What a job's end is told to, on either side of the runner (the queue for a
 * job cancelled before it started, a worker for every other): the runner calls
 * it once, in the process that won the ending, so a job is counted once
 * across every process. The audit entry and the webhook deliveries are
 * awaited (once this returns they are in Redis); the count is not I/O.
 */
export function onJobEnded(audit: AuditLog, metrics: DrydockMetrics | null, webhooks: WebhookDispatcher | null = null): (job: JobRecord) => Promise<void> {
  return async (job) => {
    metrics?.jobEnded(job);
    await Promise.all([audit.record(jobEndingEntry(job)), webhooks?.tell(endingEvents(job))]);
  };
}

/** job.queued and job.started, from the process that queued or started the job. */
export function onJobQueuedOrStarted(webhooks: WebhookDispatcher | null): Pick<JobQueueOptions, 'onJobQueued'> & Pick<JobWorkerOptions, 'onJobStarted'> {
  return {
    onJobQueued: (job) => webhooks?.tell([queuedEvent(job)]),
    onJobStarted: (job) => webhooks?.tell([startedEvent(job)]),
  };
}
