import { DrydockError, ErrorCode } from '@drydock/core';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  /** The error's details (RFC 9457 extension members), e.g. `engines` of AMBIGUOUS_ENGINE. */
  [extension: string]: unknown;
}

/**
 * The one place a code becomes an HTTP status. The switch is exhaustive: a new
 * ErrorCode does not compile until it is given a status here.
 */
export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.INVALID_REFERENCE:
    case ErrorCode.VALIDATION_FAILED:
    case ErrorCode.DOCKERFILE_INVALID:
    case ErrorCode.UNKNOWN_ENGINE:
    case ErrorCode.WEBHOOK_TARGET_REFUSED:
      return 400;
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.FORBIDDEN:
      return 403;
    case ErrorCode.IMAGE_NOT_FOUND:
    case ErrorCode.CONTAINER_NOT_FOUND:
    case ErrorCode.JOB_NOT_FOUND:
    case ErrorCode.UPLOAD_NOT_FOUND:
    case ErrorCode.SECRET_NOT_FOUND:
    case ErrorCode.WEBHOOK_NOT_FOUND:
    case ErrorCode.DELIVERY_NOT_FOUND:
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.IMAGE_IN_USE:
    case ErrorCode.CONTAINER_RUNNING:
    case ErrorCode.TAG_EXISTS:
    case ErrorCode.CONFLICT:
    case ErrorCode.JOB_FINISHED:
    case ErrorCode.QUOTA_EXCEEDED:
    case ErrorCode.AMBIGUOUS_ENGINE:
      return 409;
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return 413;
    case ErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return 415;
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.QUEUE_FULL:
      return 429;
    case ErrorCode.REGISTRY_UNAUTHORIZED:
    case ErrorCode.REGISTRY_UNREACHABLE:
    case ErrorCode.REGISTRY_ERROR:
    case ErrorCode.PLATFORM_MISMATCH:
      return 502;
    case ErrorCode.ENGINE_UNAVAILABLE:
    case ErrorCode.REDIS_UNAVAILABLE:
      return 503;
    // The server's disk, not the request: a retry once space is freed will do.
    case ErrorCode.INSUFFICIENT_STORAGE:
      return 507;
    case ErrorCode.BUILD_FAILED:
    case ErrorCode.RUN_FAILED:
    case ErrorCode.CANCELLED:
    case ErrorCode.WORKER_LOST:
    case ErrorCode.JOB_TIMEOUT:
    case ErrorCode.ENGINE_ERROR:
    case ErrorCode.INTERNAL:
      return 500;
  }
}

function title(code: ErrorCode): string {
  return code
    .toLowerCase()
    .split('_')
    .map((word, i) => (i === 0 ? word[0]?.toUpperCase() + word.slice(1) : word))
    .join(' ');
}

/**
 * A refusal that is the caller's to fix although its code names someone
 * else: a registry login refused at PUT /v1/registries/{host}/credential is
 * REGISTRY_UNAUTHORIZED like a push refused mid-job, but there the caller
 * sent the wrong password, so 422 rather than 502.
 */
export class CallersRefusal extends DrydockError {}

/** The status of one error: its code's, unless the error is the caller's to fix. */
export function statusOfError(error: DrydockError): number {
  return error instanceof CallersRefusal ? 422 : statusOf(error.code);
}

export function problemOf(error: DrydockError, requestId?: string): Problem {
  const status = statusOfError(error);
  return {
    ...error.details,
    type: `https://drydock.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: title(error.code),
    status,
    detail: error.message,
    code: error.code,
    ...(requestId ? { requestId } : {}),
  };
}

/** Codes for HTTP statuses that reach us without a DrydockError (framework and Fastify errors). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode.VALIDATION_FAILED;
    case 401:
      return ErrorCode.UNAUTHENTICATED;
    case 403:
      return ErrorCode.FORBIDDEN;
    case 404:
      return ErrorCode.NOT_FOUND;
    case 409:
      return ErrorCode.CONFLICT;
    case 413:
      return ErrorCode.PAYLOAD_TOO_LARGE;
    case 415:
      return ErrorCode.UNSUPPORTED_MEDIA_TYPE;
    case 429:
      return ErrorCode.RATE_LIMITED;
    case 503:
      return ErrorCode.ENGINE_UNAVAILABLE;
    default:
      return status >= 400 && status < 500 ? ErrorCode.VALIDATION_FAILED : ErrorCode.INTERNAL;
  }
}
