import type { DrydockClient } from './client';
import { isProblemResponse, problemError, statusProblem } from './problem';
import { url } from './transport';
import type { Job } from './watch-job';

/** `docker build`'s options, which a tar upload carries as the Engine API's query parameters. */
export interface BuildTarOptions {
  /** `-t`, at least one. */
  tags: string[];
  /** `-f`: the Dockerfile's path inside the context (default `Dockerfile`). */
  dockerfile?: string;
  target?: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  builder?: 'buildkit' | 'legacy';
  /**
   * `sorted`: the tar's entries come in BuildKit's walk order (as `tar --sort=name`
   * writes them), and a BuildKit build starts while the upload still arrives.
   * An entry out of order is refused (400). `buildDirectory` sends its directory so.
   */
  contextOrder?: 'any' | 'sorted';
  /** Build secret ids (`RUN --mount=type=secret,id=<id>`). */
  secrets?: string[];
  cacheFrom?: string[];
  engine?: string;
  timeoutSeconds?: number;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/**
 * `docker build -` from a tar already in hand (a browser's File, a Blob built
 * in memory): `POST /v1/builds` with the tar as the body, answering the queued
 * BUILD job. A directory on disk is `buildDirectory` of `@drydock/client/node`,
 * which streams it instead.
 */
export async function buildTar(client: DrydockClient, context: Blob, options: BuildTarOptions): Promise<Job> {
  const { transport } = client;
  const headers: Record<string, string> = { ...transport.headers, 'content-type': 'application/x-tar' };
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const response = await transport.fetch(
    new Request(url(transport, `/v1/builds?${buildQuery(options)}`), { method: 'POST', headers, body: context, signal: options.signal }),
  );
  if (isProblemResponse(response)) throw await problemError(response);
  if (!response.ok) throw statusProblem(response);
  return (await response.json()) as Job;
}

/** The build options as the Engine API's query parameters, which a tar upload takes. */
export function buildQuery(options: BuildTarOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const tag of options.tags) query.append('t', tag);
  const single: Record<string, string | number | boolean | undefined> = {
    dockerfile: options.dockerfile,
    target: options.target,
    nocache: options.noCache,
    pull: options.pull,
    platform: options.platform,
    builder: options.builder,
    contextOrder: options.contextOrder,
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
