import { pack } from 'tar-fs';
import type { DrydockClient } from './client';
import { isProblemResponse, problemError } from './problem';
import { url } from './transport';
import type { Job } from './watch-job';

export interface BuildDirectoryOptions {
  /** `-t`, at least one. */
  tags: string[];
  /** `-f`: the Dockerfile's path inside the directory (default `Dockerfile`). */
  dockerfile?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  builder?: 'buildkit' | 'legacy';
  /** Build secret ids (`RUN --mount=type=secret,id=<id>`). */
  secrets?: string[];
  cacheFrom?: string[];
  engine?: string;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  /** Paths (relative to the directory, `/`-separated) left out of the context, like .dockerignore. */
  ignore?: (path: string) => boolean;
  signal?: AbortSignal;
}

/**
 * `docker build DIR`: streams the directory as a tar to `POST /v1/builds`
 * without holding it in memory (the upload follows the socket's pace), and
 * answers the queued BUILD job; `client.watchJob(job.id)` follows it.
 */
export async function buildDirectory(client: DrydockClient, dir: string, options: BuildDirectoryOptions): Promise<Job> {
  const { transport } = client;
  const ignore = options.ignore;
  const tar = pack(dir, ignore ? { ignore: (name: string) => ignore(relativeTo(dir, name)) } : {});
  const headers: Record<string, string> = { ...transport.headers, 'content-type': 'application/x-tar' };
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const body = pulled(tar);
  try {
    const response = await transport.fetch(
      new Request(url(transport, `/v1/builds?${buildQuery(options)}`), {
        method: 'POST',
        headers,
        body,
        signal: options.signal,
        // A streamed request body: what Node's fetch (undici) asks to be told.
        duplex: 'half',
      } as RequestInit & { duplex: 'half' }),
    );
    if (isProblemResponse(response)) throw await problemError(response);
    if (!response.ok) throw new Error(`POST /v1/builds answered ${response.status}`);
    return (await response.json()) as Job;
  } finally {
    // Refused before the whole directory was read (too big, forbidden): stop reading the disk.
    tar.destroy();
  }
}

/** The build options as the Engine API's query parameters, which a tar upload takes. */
export function buildQuery(options: BuildDirectoryOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const tag of options.tags) query.append('t', tag);
  const single: Record<string, string | number | boolean | undefined> = {
    dockerfile: options.dockerfile,
    target: options.target,
    nocache: options.noCache,
    pull: options.pull,
    platform: options.platform,
    builder: options.builder,
    engine: options.engine,
    timeoutSeconds: options.timeoutSeconds,
  };
  for (const [key, value] of Object.entries(single)) if (value !== undefined) query.set(key, String(value));
  if (options.buildArgs) query.set('buildargs', JSON.stringify(options.buildArgs));
  if (options.labels) query.set('labels', JSON.stringify(options.labels));
  for (const secret of options.secrets ?? []) query.append('secret', secret);
  for (const ref of options.cacheFrom ?? []) query.append('cachefrom', ref);
  return query;
}

/** A web stream that reads the tar only when fetch asks for more: the directory is read at the upload's pace. */
function pulled(source: { [Symbol.asyncIterator](): AsyncIterator<unknown>; destroy(): void }): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = (await chunks.next()) as IteratorResult<Buffer, undefined>;
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      cancel() {
        source.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

function relativeTo(dir: string, name: string): string {
  const base = dir.replace(/[\\/]+$/, '');
  return name.slice(base.length + 1).split(/[\\/]/).join('/');
}
