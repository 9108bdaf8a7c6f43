import type { JobType } from '../model';

export const DEFAULT_QUEUE_BASE = 'jobs';

/**
 * One BullMQ queue per job type rather than one queue with job names: a
 * worker's concurrency is per queue, and a long build must not hold the slots
 * that pulls need, nor a burst of pulls delay a build.
 */
export function queueNameFor(type: JobType, base = DEFAULT_QUEUE_BASE): string {
  return `${base}-${type.toLowerCase()}`;
}
