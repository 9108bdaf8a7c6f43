import { HttpException } from '@nestjs/common';
import { DrydockError, ErrorCode, isRedisUnreachable, redisUnavailable } from '@drydock/core';
import { codeForStatus } from './problem';

/** Whatever was thrown, as a DrydockError: framework, Fastify and Redis errors included. */
export function toDrydockError(error: unknown): DrydockError {
  if (error instanceof DrydockError) return error;
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const body = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const code = typeof body['code'] === 'string' && body['code'] in ErrorCode ? (body['code'] as ErrorCode) : codeForStatus(error.getStatus());
    const raw = body['message'] ?? error.message;
    const message = Array.isArray(raw) ? raw.join('; ') : String(raw);
    return new DrydockError(code, message, { cause: error });
  }
  const e = error as { statusCode?: number; message?: string; name?: string; code?: string } | null;
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own errors: body too large, bad JSON, unknown content type.
    return new DrydockError(codeForStatus(e.statusCode), e.message ?? 'bad request', { cause: error });
  }
  if (isRedisUnreachable(error)) return redisUnavailable(error);
  return new DrydockError(ErrorCode.INTERNAL, 'internal error', { cause: error });
}
