import { DrydockError, ErrorCode } from '@drydock/core';

export type Subject = 'image' | 'container' | 'registry' | 'engine';

/**
 * Codes the engine's messages imply, whatever HTTP status carried them. The
 * engine reports registry trouble as a 500 (or inside a 200 stream) with the
 * Go error text, so the text is the only signal there is.
 */
export function classifyMessage(message: string): ErrorCode | undefined {
  const m = message.toLowerCase();
  if (/unauthorized|authentication required|no basic auth credentials|incorrect username or password|denied: requested access/.test(m)) {
    return ErrorCode.REGISTRY_UNAUTHORIZED;
  }
  if (/no space left on device/.test(m)) return ErrorCode.INSUFFICIENT_STORAGE;
  if (/no matching manifest|does not match the specified platform|image with reference .* was found but does not match/.test(m)) {
    return ErrorCode.PLATFORM_MISMATCH;
  }
  if (/dial tcp|no such host|connection refused|i\/o timeout|tls handshake timeout|network is unreachable|context deadline exceeded|server misbehaving|request canceled while waiting/.test(m)) {
    return ErrorCode.REGISTRY_UNREACHABLE;
  }
  if (/manifest unknown|not found: manifest|repository does not exist|pull access denied|name unknown/.test(m)) {
    return ErrorCode.IMAGE_NOT_FOUND;
  }
  return undefined;
}

interface ModemError {
  statusCode?: number;
  json?: { message?: string } | string | null;
  reason?: string;
  message?: string;
  code?: string;
}

const UNREACHABLE_SOCKET = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH']);

function engineMessage(error: ModemError): string {
  const json = error.json;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message;
  if (typeof json === 'string' && json.trim()) return json.trim();
  // Stream endpoints leave `json` empty; docker-modem's message then carries the body after its own prefix.
  const message = error.message?.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return message || error.reason || 'engine error';
}

/** Maps an error from a dockerode call to a DrydockError, keeping the engine's message. */
export function toDomainError(error: unknown, subject: Subject): DrydockError {
  if (error instanceof DrydockError) return error;
  const e = (error ?? {}) as ModemError;
  if (e.code && UNREACHABLE_SOCKET.has(e.code) && e.statusCode === undefined) {
    return new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `Docker engine unavailable: ${e.message ?? e.code}`, { cause: error });
  }
  if ((error as Error)?.name === 'AbortError') {
    return new DrydockError(ErrorCode.CANCELLED, 'operation cancelled', { cause: error });
  }
  const message = engineMessage(e);
  const implied = classifyMessage(message);
  switch (e.statusCode) {
    case 404:
      if (implied === ErrorCode.REGISTRY_UNAUTHORIZED || implied === ErrorCode.REGISTRY_UNREACHABLE) {
        return new DrydockError(implied, message, { cause: error });
      }
      return new DrydockError(
        subject === 'container' ? ErrorCode.CONTAINER_NOT_FOUND : ErrorCode.IMAGE_NOT_FOUND,
        message,
        { cause: error },
      );
    case 409:
      if (subject === 'container') return new DrydockError(ErrorCode.CONTAINER_RUNNING, message, { cause: error });
      // IMAGE_IN_USE means a container uses the image. The engine's other conflicts ("referenced in
      // multiple repositories", "has dependent child images", "a prune operation is already running")
      // are plain conflicts: the caller has nothing to stop, it has to force or wait.
      return new DrydockError(/container/i.test(message) ? ErrorCode.IMAGE_IN_USE : ErrorCode.CONFLICT, message, { cause: error });
    case 400:
      return new DrydockError(implied ?? ErrorCode.VALIDATION_FAILED, message, { cause: error });
    case 401:
    case 403:
      return new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, message, { cause: error });
    case undefined:
      return new DrydockError(implied ?? ErrorCode.ENGINE_UNAVAILABLE, message, { cause: error });
    default:
      return new DrydockError(implied ?? ErrorCode.ENGINE_ERROR, message, { cause: error });
  }
}

/** Runs a dockerode call and maps whatever it throws. */
export async function engineCall<T>(subject: Subject, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toDomainError(error, subject);
  }
}
