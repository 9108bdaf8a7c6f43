import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pack } from 'tar-fs';
import { buildQuery, type BuildTarOptions } from './build-tar';
import type { DrydockClient } from './client';
import { isProblemResponse, problemError } from './problem';
import { url } from './transport';
import type { Job } from './watch-job';

export interface BuildDirectoryOptions extends BuildTarOptions {
  /** Paths (relative to the directory, `/`-separated) left out of the context, like .dockerignore. */
  ignore?: (path: string) => boolean;
}

/**
 * `docker build DIR`: streams the directory as a tar to `POST /v1/builds`
 * without holding it in memory (the disk is read at the upload's pace), and
 * answers the queued BUILD job; `client.watchJob(job.id)` follows it. The
 * entries go in BuildKit's walk order, sent as `contextOrder=sorted`, so a
 * BuildKit build starts while the upload still arrives.
 *
 * It speaks node:http rather than fetch: Drydock refuses a context past its cap
 * (413) or a forbidden tag (403) while the tar is still arriving, and fetch
 * reports only the broken upload, never that answer.
 */
export async function buildDirectory(client: DrydockClient, dir: string, options: BuildDirectoryOptions): Promise<Job> {
  const { transport } = client;
  // The entries are listed up front, so tar-fs adds none of its own (it would walk breadth first).
  const tar = pack(dir, { entries: await walkOrder(dir, options.ignore), ignore: () => true }) as unknown as Readable;
  const headers: Record<string, string> = { ...transport.headers, 'content-type': 'application/x-tar' };
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  try {
    const query = buildQuery({ ...options, contextOrder: 'sorted' });
    const response = await upload(new URL(url(transport, `/v1/builds?${query}`)), headers, tar, options.signal);
    if (isProblemResponse(response)) throw await problemError(response);
    if (!response.ok) throw new Error(`POST /v1/builds answered ${response.status}`);
    return (await response.json()) as Job;
  } finally {
    // Answered before the whole directory was read (refused): stop reading the disk.
    tar.destroy();
  }
}

/** The most of an answer to an upload read: a job or a problem is a few KiB. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** POSTs `body`, and answers the server's response as soon as it comes, even before the upload ended. */
function upload(target: URL, headers: Record<string, string>, body: Readable, signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: 'POST', headers, signal });
    let answered = false;
    request.on('response', (incoming) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) return void incoming.destroy(new Error(`an answer to POST /v1/builds over ${MAX_ANSWER_BYTES} bytes`));
        chunks.push(chunk);
      });
      incoming.on('error', reject);
      incoming.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        resolve(new Response(Buffer.concat(chunks), { status: incoming.statusCode ?? 502, headers: answerHeaders }));
      });
    });
    // The server closing the connection on a refusal breaks the upload: its answer, when it could be read, is what matters.
    request.on('error', (error) => answered || reject(new Error(`the upload to POST /v1/builds broke before Drydock answered (a context over its cap is refused this way): ${error.message}`, { cause: error })));
    body.on('error', (error) => {
      request.destroy(error);
      reject(error);
    });
    // pipe() waits for the socket: the tar is read no faster than it is sent.
    body.pipe(request);
  });
}

/**
 * The directory's paths (`/`-separated) in BuildKit's walk order: each
 * directory's entries sorted by their bytes, a directory right before what it
 * holds. An ignored directory is left out with all it holds.
 */
async function walkOrder(dir: string, ignore: ((path: string) => boolean) | undefined): Promise<string[]> {
  const paths: string[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(relative ? `${dir}/${relative}` : dir, { withFileTypes: true });
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (ignore?.(path)) continue;
      paths.push(path);
      // A symlink to a directory is sent as the link, as docker build does.
      if (entry.isDirectory()) await visit(path);
    }
  };
  await visit('');
  return paths;
}
