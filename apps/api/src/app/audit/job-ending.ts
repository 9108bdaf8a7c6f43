import { JobState, type JobRecord } from '@drydock/jobs';
import type { AuditRecord } from './audit.service';
import { describeTarget } from './describe-call';

/**
 * A job's end as an audit entry: `job <TYPE>` by the token that queued it,
 * outcome `ok`, `CANCELLED` or the error code it failed with. The role is
 * empty: the trail knows the owner's token name, not the role it had then.
 */
export function jobEndingEntry(job: JobRecord): AuditRecord {
  const outcome = job.state === JobState.SUCCEEDED ? 'ok' : job.state === JobState.CANCELLED ? 'CANCELLED' : (job.error?.code ?? 'INTERNAL');
  const request = describeTarget([job.request]);
  return {
    principal: { name: job.owner ?? '', team: job.team ?? '', role: '' },
    action: `job ${job.type}`,
    target: [`jobId=${job.id}`, `state=${job.state}`, request].filter(Boolean).join(' '),
    outcome,
    requestId: null,
  };
}
