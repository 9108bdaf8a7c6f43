import { pack } from 'tar-stream';
import { eventually } from './graphql';

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
  startedAt: string | null;
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

/** The events must be 1..n without a gap, and end with exactly one terminal STATE. */
export function expectGapless(events: JobEventJson[], from = 1): void {
  events.forEach((event, i) => {
    if (event.sequence !== from + i) throw new Error(`event ${i} has sequence ${event.sequence}, expected ${from + i}`);
  });
  const last = events[events.length - 1];
  if (!last || last.kind !== 'STATE' || !TERMINAL.has(last.state ?? '')) {
    throw new Error(`the last event is not a terminal STATE: ${JSON.stringify(last)}`);
  }
}

export const JOB_EVENT_FIELDS = `jobId sequence at kind state message progress
  layer { id status current total } step { index count instruction }
  result { imageId digest tags containerId exitCode } error { code message }`;
