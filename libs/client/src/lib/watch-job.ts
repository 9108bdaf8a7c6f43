import type { components } from '../generated/openapi';
import { isProblemResponse, problemError } from './problem';
import { readSse, SseLimitError } from './sse';
import { delay, url, type Transport } from './transport';

export type Job = components['schemas']['JobModel'];
export type JobEvent = components['schemas']['JobEventModel'];

const TERMINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export interface WatchJobOptions {
  /** Stops watching: the iterator rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Start after this sequence (an EventSource's `Last-Event-ID`); absent, from the first event. */
  lastEventId?: string | number;
  /** Reconnections in a row without a new event before giving up (default 5). */
  maxRetries?: number;
  /** The first wait before reconnecting, doubled each time up to 10 s (default 250 ms). */
  retryDelayMs?: number;
  /** The longest line of the stream, in characters (default 1 MiB). */
  maxLineLength?: number;
  /** The most data one event may carry, in characters (default 4 MiB). */
  maxEventLength?: number;
}

/** The watch gave up: the stream kept being cut (or failing) without a new event. */
export class JobStreamError extends Error {
  override readonly name = 'JobStreamError';
  constructor(
    message: string,
    /** The code of an `event: error` the server sent, when that was the last failure. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTerminalEvent(event: JobEvent): boolean {
  return event.kind === 'STATE' && TERMINAL_STATES.has(event.state ?? '');
}

/**
 * A job's events from `GET /v1/jobs/{id}/events`, replayed then live, ending
 * after its terminal STATE event. A stream cut before that (the connection
 * dropped, a proxy timed out, the server restarted) is resumed with
 * `Last-Event-ID`, so every event arrives once, in order.
 */
export async function* watchJob(transport: Transport, id: string, options: WatchJobOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
  const { signal, maxRetries = 5, retryDelayMs = 250 } = options;
  const limits = { maxLineLength: options.maxLineLength ?? 1024 * 1024, maxDataLength: options.maxEventLength ?? 4 * 1024 * 1024 };
  let lastEventId = options.lastEventId === undefined ? undefined : String(options.lastEventId);
  let failures = 0;
  let lastFailure: { message: string; code?: string; cause?: unknown } = { message: 'no attempt yet' };
  for (;;) {
    signal?.throwIfAborted();
    if (failures > 0) {
      if (failures > maxRetries) {
        throw new JobStreamError(`the events of job ${id} were cut ${failures} times in a row: ${lastFailure.message}`, lastFailure.code, { cause: lastFailure.cause });
      }
      await delay(Math.min(retryDelayMs * 2 ** (failures - 1), 10_000), signal);
    }
    const headers: Record<string, string> = { ...transport.headers, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let response: Response;
    try {
      response = await transport.fetch(new Request(url(transport, `/v1/jobs/${encodeURIComponent(id)}/events`), { headers, signal }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      failures += 1;
      lastFailure = { message: (error as Error).message, cause: error };
      continue;
    }
    if (isProblemResponse(response)) throw await problemError(response);
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      // A gateway's 502/503/504 while Drydock restarts is a cut; anything else is an answer.
      if (response.status < 500) throw new JobStreamError(`GET /v1/jobs/${id}/events answered ${response.status}`);
      failures += 1;
      lastFailure = { message: `answered ${response.status}` };
      continue;
    }
    let serverError: { message: string; code?: string } | undefined;
    try {
      for await (const message of readSse(response.body, limits)) {
        if (message.event === 'error') {
          const failure = parseJson(message.data) as { code?: string; message?: string } | undefined;
          serverError = { message: failure?.message ?? message.data, code: failure?.code };
          break;
        }
        const event = parseJson(message.data) as JobEvent | undefined;
        if (!event) throw new JobStreamError(`job ${id} sent an event that is not JSON: ${message.data.slice(0, 80)}`);
        if (message.id !== undefined) lastEventId = message.id;
        failures = 0;
        yield event;
        if (isTerminalEvent(event)) return;
      }
      lastFailure = serverError ?? { message: 'the stream ended before the job did' };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof SseLimitError || error instanceof JobStreamError) throw error;
      lastFailure = { message: (error as Error).message, cause: error };
    }
    failures += 1;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
