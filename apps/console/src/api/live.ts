import { JobEventsDocument, JobUpdatedDocument, type TypedDocumentString } from '@drydock/client';
import { drydock } from './client';
import { isCut, problemOf, type DrydockProblemError } from './problem';
import type { JobEvent, JobSummary } from './types';

export interface LiveHandlers<T> {
  next(value: T): void;
  error(problem: DrydockProblemError): void;
  complete?(): void;
}

/** Resubscriptions in a row, without a payload between them, before a cut socket is reported. */
const MAX_RESUBSCRIBES = 5;

/**
 * Follows a subscription until the returned stop is called. A cut socket (not a
 * refused token) subscribes again with the variables as they stand then, so a
 * caller that tracks what it has resumes rather than starts over.
 */
function follow<TResult, TVariables, T>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: () => TVariables,
  pick: (result: TResult) => T,
  handlers: LiveHandlers<T>,
): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  void (async () => {
    for (let cuts = 0; ; ) {
      try {
        for await (const result of drydock().subscribe(document, variables(), signal)) {
          cuts = 0;
          handlers.next(pick(result));
        }
        if (!signal.aborted) handlers.complete?.();
        return;
      } catch (error) {
        if (signal.aborted) return;
        if (!isCut(error) || ++cuts > MAX_RESUBSCRIBES) return handlers.error(problemOf(error));
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** cuts));
      }
    }
  })();
  return () => controller.abort();
}

/** A job's events from `fromSequence` (1: the whole job, replayed), then live until its terminal event. */
export function subscribeJobEvents(jobId: string, fromSequence: number, handlers: LiveHandlers<JobEvent>): () => void {
  let last = fromSequence - 1;
  return follow(
    JobEventsDocument,
    () => ({ jobId, fromSequence: last + 1 }),
    ({ jobEvents }) => {
      last = jobEvents.sequence;
      return jobEvents;
    },
    handlers,
  );
}

/** Every change of a job the token may see. */
export function subscribeJobUpdated(handlers: LiveHandlers<JobSummary>): () => void {
  return follow(JobUpdatedDocument, () => ({}), ({ jobUpdated }) => jobUpdated, handlers);
}
