import { DrydockError, ErrorCode, isDrydockError, isTransient } from '@drydock/core';
import type { DockerEngine } from '@drydock/docker';

/**
 * What an engine says of its calls while it shuts down: its containerd client is closing. Its ping
 * may go on answering for as long as it waits for other requests and containers (seconds), so the
 * words alone decide.
 */
const SHUTTING_DOWN = /client connection is closing|transport is closing|server is shutting down/i;

/**
 * What a failed engine call really was. An engine going down cuts its
 * streams in ways that read like the operation's own failure (a build
 * stream that ends without an image, a pull that ends short); when the
 * engine no longer answers, the failure is ENGINE_UNAVAILABLE, transient,
 * and the job is retried once the engine is back.
 */
export async function classifyFailure(engine: DockerEngine, error: unknown): Promise<unknown> {
  if (isDrydockError(error) && (isTransient(error.code) || error.code === ErrorCode.CANCELLED)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const gone = () => new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `the engine went away during the job (${message})`, { cause: error });
  if (SHUTTING_DOWN.test(message)) return gone();
  try {
    await engine.system.ping();
    return error;
  } catch (pingError) {
    if (!isDrydockError(pingError) || pingError.code !== ErrorCode.ENGINE_UNAVAILABLE) return error;
    return gone();
  }
}
