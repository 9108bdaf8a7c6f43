import { DEFAULT_ENGINE } from '@drydock/docker';
import type { JobType } from '../model';

export const DEFAULT_QUEUE_BASE = 'jobs';

/**
 * One BullMQ queue per engine and job type rather than one queue with job
 * names: a worker's concurrency is per queue, a long build must not hold the
 * slots that pulls need, and one engine's backlog must not delay another's.
 * The `default` engine keeps the names queues had before there were several,
 * so jobs queued then still run.
 */
export function queueNameFor(type: JobType, base = DEFAULT_QUEUE_BASE, engine = DEFAULT_ENGINE): string {
  const name = `${base}-${type.toLowerCase()}`;
  return engine === DEFAULT_ENGINE ? name : `${name}@${engine}`;
}
