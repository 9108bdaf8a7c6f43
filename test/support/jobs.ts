import { pack } from 'tar-stream';
import { eventually, wsClient } from './graphql';

export interface JobEventJson {
  jobId: string;
  sequence: number;
  kind: 'STATE' | 'LOG' | 'PROGRESS' | 'RESULT' | 'ERROR';
  state: string | null;
  message: string | null;
  progress: number | null;
  layer: { id: string; status: string; current: number | null; total: number | null } | null;
  step: { index: number; count: number; instruction: string } | null;
  result: { imageId?: string; digest?: string; tags?: string[]; containerId?: string; exitCode?: number } | null;
  error: { code: string; message: string } | null;
}

export interface JobJson {
  id: string;
  type: string;
  state: string;
  progress: number | null;
  result: JobEventJson['result'];
  error: { code: string; message: string } | null;
  request: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  /** The engine the job runs on. */
  engine?: string | null;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** A tar build context, in memory (tests only: Drydock itself never buffers one). */
export async function tarContext(files: Record<string, string | Buffer>): Promise<Buffer<ArrayBuffer>> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o644 }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function getJob(url: string, token: string, id: string): Promise<JobJson> {
  const response = await fetch(`${url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /v1/jobs/${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as JobJson;
}

/** Polls the job until it ends (or the deadline passes). */
export function waitForJob(url: string, token: string, id: string, deadlineMs = 60_000): Promise<JobJson> {
  return eventually(
    async () => {
      const job = await getJob(url, token, id);
      return TERMINAL.has(job.state) ? job : undefined;
    },
    deadlineMs,
    `job ${id} to end`,
  );
}

/**
 * Reads `GET /v1/jobs/{id}/events` as Server-Sent Events until the server ends
 * the stream (after the terminal event). Returns the events and their SSE ids/names.
 */
export async function readSse(
  url: string,
  token: string,
  id: string,
  headers: Record<string, string> = {},
  deadlineMs = 60_000,
): Promise<{ status: number; contentType: string | null; events: JobEventJson[]; ids: string[]; names: string[] }> {
  const response = await fetch(`${url}/v1/jobs/${id}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
    signal: AbortSignal.timeout(deadlineMs),
  });
  const text = await response.text();
  const events: JobEventJson[] = [];
  const ids: string[] = [];
  const names: string[] = [];
  for (const block of text.split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter((line) => line && !line.startsWith(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
    );
    if (fields['data'] === undefined) continue;
    events.push(JSON.parse(fields['data']) as JobEventJson);
    ids.push(fields['id'] ?? '');
    names.push(fields['event'] ?? '');
  }
  return { status: response.status, contentType: response.headers.get('content-type'), events, ids, names };
}

/**
 * Reads a job's SSE stream into `into` as events arrive, until it ends or is cut
 * (by `signal`, or by the server going away). What arrived is in `into`, so the
 * caller can resume from there with `Last-Event-ID`, as an EventSource would.
 */
export async function readSseInto(
  url: string,
  token: string,
  jobId: string,
  headers: Record<string, string>,
  into: JobEventJson[],
  signal?: AbortSignal,
): Promise<void> {
  try {
    const response = await fetch(`${url}/v1/jobs/${jobId}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
      signal,
    });
    if (!response.ok || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((line) => line.startsWith('data:'));
        if (data) into.push(JSON.parse(data.slice(5).trimStart()) as JobEventJson);
      }
    }
  } catch {
    // Cut: refused, aborted, or the connection dropped mid-stream.
  }
}

/**
 * Follows a job's `jobEvents` over graphql-ws into `into`, from the sequence
 * after the last one there, until the subscription completes or is cut (by
 * `signal`, or by the socket dropping). The caller resumes from what arrived.
 */
export async function jobEventsInto(url: string, token: string, jobId: string, into: JobEventJson[], signal?: AbortSignal): Promise<void> {
  const query = `subscription($id: ID!, $from: Int) { jobEvents(jobId: $id, fromSequence: $from) { ${JOB_EVENT_FIELDS} } }`;
  const client = wsClient(`${url.replace(/^http/, 'ws')}/graphql`, { authorization: `Bearer ${token}` });
  const cut = () => void client.dispose();
  signal?.addEventListener('abort', cut, { once: true });
  try {
    const from = (into.at(-1)?.sequence ?? 0) + 1;
    for await (const result of client.iterate<{ jobEvents: JobEventJson }>({ query, variables: { id: jobId, from } })) {
      if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
      if (result.data) into.push(result.data.jobEvents);
      if (signal?.aborted) break;
    }
  } catch {
    // Cut, refused, or an error from the server: what arrived is in `into`.
  } finally {
    signal?.removeEventListener('abort', cut);
    await client.dispose();
  }
}

/** The job's terminal STATE event: nothing follows it. */
export function isTerminal(event: JobEventJson | undefined): boolean {
  return event?.kind === 'STATE' && TERMINAL.has(event.state ?? '');
}

/** The events must be 1..n without a gap, and end with exactly one terminal STATE. */
export function expectGapless(events: JobEventJson[], from = 1): void {
  events.forEach((event, i) => {
    if (event.sequence !== from + i) throw new Error(`event ${i} has sequence ${event.sequence}, expected ${from + i}`);
  });
  const last = events[events.length - 1];
  if (!last || !isTerminal(last)) {
    throw new Error(`the last event is not a terminal STATE: ${JSON.stringify(last)}`);
  }
}

export const JOB_EVENT_FIELDS = `jobId sequence at kind state message progress
  layer { id status current total } step { index count instruction }
  result { imageId digest tags containerId exitCode } error { code message }`;
