import { DrydockError, ErrorCode, isDrydockError, isTransient } from '@drydock/core';
import type { DockerEngine } from '@drydock/docker';

/**
 * What a failed engine call really was. An engine going down cuts its
 * streams in ways that read like the operation's own failure (a build
 * stream that ends without an image, a pull that ends short); when the
 * engine no longer answers, the failure is ENGINE_UNAVAILABLE, transient,
 * and the job is retried once the engine is back.
 */
/** What an engine says of its own calls while it shuts down: the ping may still answer for a moment. */
const SHUTTING_DOWN = /client connection is closing|transport is closing|context canceled|server is shutting down/i;
const SHUTDOWN_PROBES = 12;
const PROBE_INTERVAL_MS = 250;

export async function classifyFailure(engine: DockerEngine, error: unknown): Promise<unknown> {
  if (isDrydockError(error) && (isTransient(error.code) || error.code === ErrorCode.CANCELLED)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const probes = SHUTTING_DOWN.test(message) ? SHUTDOWN_PROBES : 1;
  for (let probe = 0; probe < probes; probe++) {
    if (probe) await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    try {
      await engine.system.ping();
    } catch (pingError) {
      if (!isDrydockError(pingError) || pingError.code !== ErrorCode.ENGINE_UNAVAILABLE) return error;
      return new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `the engine went away during the job (${message})`, { cause: error });
    }
  }
  return error;
}
