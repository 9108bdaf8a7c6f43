import { createClient, type Client } from 'graphql-ws';
import { ProblemError } from './problem';
import { storedToken } from './token';
import type { Job, JobEvent } from './types';

/** graphql-ws on the API's own /graphql, signed in with the session's token. */
let client: Client | null = null;

function wsClient(): Client {
  if (!client) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    client = createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${storedToken() ?? ''}` }),
      lazy: true,
      // A cut socket reconnects and the subscription starts again; callers drop what they already have.
      retryAttempts: 5,
      shouldRetry: (event) => !(isCloseEvent(event) && (event.code === 4401 || event.code === 4403)),
    });
  }
  return client;
}

/** Signing out closes the socket: the next subscription signs in again with the new token. */
export function closeLive(): void {
  void client?.dispose();
  client = null;
}

function isCloseEvent(value: unknown): value is CloseEvent {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function problemOfWs(error: unknown): ProblemError {
  if (Array.isArray(error) && error.length > 0) {
    const first = error[0] as { message?: string; extensions?: { code?: string } };
    return new ProblemError(0, first.extensions?.code ?? 'GRAPHQL_ERROR', 'The live subscription was refused', first.message ?? '');
  }
  if (isCloseEvent(error)) {
    const code = error.code === 4401 ? 'UNAUTHENTICATED' : error.code === 4403 ? 'FORBIDDEN' : 'CONNECTION_CLOSED';
    return new ProblemError(0, code, 'The live connection closed', error.reason || `code ${error.code}`);
  }
  return ProblemError.from(error);
}

export interface LiveHandlers<T> {
  next(value: T): void;
  error(problem: ProblemError): void;
  complete?(): void;
}

function subscribe<T>(query: string, variables: Record<string, unknown>, field: string, handlers: LiveHandlers<T>): () => void {
  return wsClient().subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) handlers.error(problemOfWs(result.errors));
        const value = result.data?.[field];
        if (value) handlers.next(value);
      },
      error: (error) => handlers.error(problemOfWs(error)),
      complete: () => handlers.complete?.(),
    },
  );
}

const EVENT_FIELDS = `jobId sequence at kind state message progress stream
  layer { id status current total }
  step { index count instruction id name cached startedAt completedAt error }
  error { code message }
  result { imageId digest tags containerId exitCode artifactBytes steps cachedSteps }`;

/** A job's events from `fromSequence` (1: the whole job, replayed), then live until its terminal event. */
export function subscribeJobEvents(jobId: string, fromSequence: number, handlers: LiveHandlers<JobEvent>): () => void {
  return subscribe(
    `subscription JobEvents($jobId: ID!, $from: Int) { jobEvents(jobId: $jobId, fromSequence: $from) { ${EVENT_FIELDS} } }`,
    { jobId, from: fromSequence },
    'jobEvents',
    handlers,
  );
}

const JOB_FIELDS = 'id type state progress createdAt startedAt finishedAt request team engine position result { imageId digest tags } error { code message }';

/** Every change of a job the token may see. */
export function subscribeJobUpdated(handlers: LiveHandlers<Job>): () => void {
  return subscribe(`subscription JobUpdated { jobUpdated { ${JOB_FIELDS} } }`, {}, 'jobUpdated', handlers);
}
