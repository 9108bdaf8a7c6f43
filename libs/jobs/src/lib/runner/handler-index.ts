import { JOB_TYPES, type JobType } from '../model';
import type { JobHandler } from './handler';

/** immich's rule: a job type with no handler, or two, is a start-up error, not a stuck queue. */
export function indexHandlers(handlers: readonly JobHandler[]): Map<JobType, JobHandler> {
  const byType = new Map<JobType, JobHandler>();
  for (const handler of handlers) {
    const other = byType.get(handler.type);
    if (other) {
      throw new Error(
        `two handlers for ${handler.type} jobs: ${other.constructor.name} and ${handler.constructor.name}`,
      );
    }
    byType.set(handler.type, handler);
  }
  const missing = JOB_TYPES.filter((type) => !byType.has(type));
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')} jobs`);
  return byType;
}
