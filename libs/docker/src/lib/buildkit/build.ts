import type Dockerode from 'dockerode';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
import { DrydockError, ErrorCode } from '@drydock/core';
import { toDomainError } from '../engine-errors';
import { decodeBuildkitStream } from './decode';
import { GrowingContext, wholeContext, type ContextFiles } from './context-source';
import { openSession, type BuildkitSession } from './session';
import { indexTar, TarIndexUnsupported } from './tar-index';
import type { BuildkitMessage, BuildkitOptions } from './trace';

/** The query of `POST /build?version=2`, every value already a string. */
export function buildkitQuery(options: BuildkitOptions, buildId: string, sessionId: string, fileSync = false): Record<string, string> {
  const buildArgs = { ...(options.buildArgs ?? {}), ...(options.inlineCache ? { BUILDKIT_INLINE_CACHE: '1' } : {}) };
  const query: Record<string, string> = {
    version: '2',
    buildid: buildId,
    session: sessionId,
    // The engine here has no bridge: steps run without a network, as containers do.
    networkmode: 'none',
    nocache: String(options.noCache ?? false),
    pull: options.pull ? '1' : '',
  };
  // The Dockerfile frontend then asks the session for the `context` and `dockerfile` dirs (moby builder-next).
  if (fileSync) query['remote'] = 'client-session';
  if (options.dockerfile) query['dockerfile'] = options.dockerfile;
  if (Object.keys(buildArgs).length) query['buildargs'] = JSON.stringify(buildArgs);
  if (options.target) query['target'] = options.target;
  if (options.labels && Object.keys(options.labels).length) query['labels'] = JSON.stringify(options.labels);
  if (options.platform) query['platform'] = options.platform;
  if (options.cacheFrom?.length) query['cachefrom'] = JSON.stringify(options.cacheFrom);
  return query;
}

interface Modem {
  dial(options: object, callback: (error: unknown, result: unknown) => void): void;
}

function dial(docker: Dockerode, options: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    (docker.modem as unknown as Modem).dial(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * The context file for FileSync: followed as it grows while its upload is
 * still arriving, else indexed whole; null when only the engine's own
 * unpacking of the body is faithful to it.
 */
async function fileSyncSource(options: BuildkitOptions, signal: AbortSignal): Promise<ContextFiles | GrowingContext | null> {
  const path = options.contextFile;
  if (!path) return null;
  const state = await options.contextUpload?.state();
  if (state?.state === 'failed') throw state.error;
  if (state?.state === 'receiving' && options.contextUpload) return GrowingContext.open(path, options.contextUpload, signal);
  let root;
  try {
    root = await indexTar(path);
  } catch (error) {
    if (error instanceof TarIndexUnsupported) return null;
    throw error;
  }
  return wholeContext(root, await open(path, 'r'));
}

/** Long enough for a prune of a busy engine's cache. */
const PRUNE_TIMEOUT_MS = 60_000;

/**
 * BuildKit keeps the context it synced for a build in its cache, as a local
 * source snapshot under the session's shared key. That key is random per
 * build (another team's files must never be taken for this one's), so the
 * snapshot is never used again: left alone, each build would keep a copy of
 * its whole context on the engine's disk (a 1 GiB bench filled 70 GB in half
 * an hour). This prunes the idle ones; a prune never touches a snapshot a
 * running build holds.
 */
export async function pruneSyncedContexts(docker: Dockerode): Promise<void> {
  await dial(docker, {
    method: 'POST',
    path: '/build/prune?',
    options: { _query: { filters: JSON.stringify({ type: ['source.local'] }) }, _body: {} },
    abortSignal: AbortSignal.timeout(PRUNE_TIMEOUT_MS),
    statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
  });
}

function cancelled(signal: AbortSignal): DrydockError {
  return toDomainError(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', cause: signal.reason }), 'engine');
}

/**
 * A build on the engine's BuildKit, dialed directly (dockerode's buildImage
 * opens a session of its own and overwrites ours). The session lives exactly
 * as long as the build: it is closed on success, failure, abort, a broken
 * context or when the consumer stops iterating. The caller owns `context`.
 */
export async function* buildWithBuildkit(docker: Dockerode, context: Readable, options: BuildkitOptions): AsyncGenerator<BuildkitMessage> {
  const signal = options.signal;
  if (signal?.aborted) throw cancelled(signal);
  const buildId = randomUUID();
  const sessionId = randomUUID();
  // Ends the request on the caller's abort and on a broken context alike.
  const stop = new AbortController();
  let opening: Promise<BuildkitSession> | undefined;
  // Whenever it opens, even after the build ended: a session still connecting is closed once it is open.
  const closeSession = () => void opening?.then((opened) => opened.close(), () => undefined);
  let sessionError: unknown;
  let files: ContextFiles | GrowingContext | null = null;
  let body: Readable | undefined;
  let contextError: unknown;
  let ended = false;
  let built = false;
  const cancelAtEngine = () => {
    // Stops the steps at the engine, whether or not it would notice its client going.
    dial(docker, { method: 'POST', path: '/build/cancel?', options: { _query: { id: buildId }, _body: {} }, statusCodes: { 200: true, 500: 'server error' } }).catch(
      () => undefined,
    );
  };
  const onAbort = () => {
    cancelAtEngine();
    closeSession();
    stop.abort(signal?.reason);
  };
  // Left attached: the context may still fail after the build, with nobody else listening.
  context.on('error', (error) => {
    contextError ??= error;
    stop.abort(error);
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    files = await fileSyncSource(options, stop.signal);
    if (stop.signal.aborted) throw stop.signal.reason;
    // An upload still arriving: refused while its build runs, it stops the build there, whatever step it is at.
    const upload = files instanceof GrowingContext ? files.settled() : null;
    upload?.catch((error: unknown) => {
      if (ended) return;
      contextError ??= error;
      cancelAtEngine();
      stop.abort(error);
    });
    // BuildKit waits for the session a build names to connect (up to 5 s), so /build goes out without waiting for
    // /session's answer, as the docker CLI does: the two round trips overlap. A session that fails stops the build.
    opening = openSession(docker, { login: options.login, secret: options.secret, ...(files ? { files } : {}) }, sessionId);
    opening.catch((error: unknown) => {
      sessionError = error;
      stop.abort(error);
    });
    body = (await dial(docker, {
      method: 'POST',
      path: '/build?',
      options: buildkitQuery(options, buildId, sessionId, files !== null),
      // With FileSync the engine reads no body; the modem would otherwise send the query as JSON.
      file: files ? Readable.from([]) : context,
      isStream: true,
      abortSignal: stop.signal,
      statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
    })) as Readable;
    addAbortSignal(stop.signal, body);
    await opening;
    for await (const message of decodeBuildkitStream(body)) {
      if (message.kind === 'image') built = true;
      yield message;
    }
    ended = true;
    if (!built) throw new DrydockError(ErrorCode.ENGINE_ERROR, 'the engine ended the build without an image');
    // A Dockerfile that copies nothing can finish first: what is built from an upload it refuses must not be kept.
    await upload;
  } catch (error) {
    // Whatever the stream said once the caller cancelled ("context canceled", a reset), the build was cancelled.
    if (signal?.aborted && !built) throw cancelled(signal);
    throw toDomainError(contextError ?? sessionError ?? error, 'engine');
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The consumer stopped early, or the stream broke: nothing may keep running for a build nobody follows.
    if (!ended && !signal?.aborted) cancelAtEngine();
    stop.abort();
    body?.destroy();
    closeSession();
    await files?.close().catch(() => undefined);
  }
}
