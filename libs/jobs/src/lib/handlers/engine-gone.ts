import { DrydockError, ErrorCode, isDrydockError, isTransient } from '@drydock/core';
import type { DockerEngine } from '@drydock/docker';

/**
 * What a failed engine call really was. An engine going down cuts its
 * streams in ways that read like the operation's own failure (a build
 * stream that ends without an image, a pull that ends short); when the
 * engine no longer answers, the failure is ENGINE_UNAVAILABLE, transient,
 * and the job is retried once the engine is back.
 */
export async function classifyFailure(engine: DockerEngine, error: unknown): Promise<unknown> {
  if (isDrydockError(error) && (isTransient(error.code) || error.code === ErrorCode.CANCELLED)) return error;
  try {
    await engine.system.ping();
    return error;
  } catch (pingError) {
    if (!isDrydockError(pingError) || pingError.code !== ErrorCode.ENGINE_UNAVAILABLE) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `the engine went away during the job (${message})`, { cause: error });
  }
}
