/**
 * The error vocabulary of Drydock. It lives in libs/core, below everything, so that the
 * engine adapter, the job runner and the API all speak the same codes; the
 * API maps each code to HTTP and GraphQL in one exhaustive switch.
 */
export enum ErrorCode {
  INVALID_REFERENCE = 'INVALID_REFERENCE',
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  IMAGE_NOT_FOUND = 'IMAGE_NOT_FOUND',
  CONTAINER_NOT_FOUND = 'CONTAINER_NOT_FOUND',
  JOB_NOT_FOUND = 'JOB_NOT_FOUND',
  UPLOAD_NOT_FOUND = 'UPLOAD_NOT_FOUND',
  SECRET_NOT_FOUND = 'SECRET_NOT_FOUND',
  NOT_FOUND = 'NOT_FOUND',
  IMAGE_IN_USE = 'IMAGE_IN_USE',
  CONTAINER_RUNNING = 'CONTAINER_RUNNING',
  TAG_EXISTS = 'TAG_EXISTS',
  CONFLICT = 'CONFLICT',
  JOB_FINISHED = 'JOB_FINISHED',
  REGISTRY_UNAUTHORIZED = 'REGISTRY_UNAUTHORIZED',
  REGISTRY_UNREACHABLE = 'REGISTRY_UNREACHABLE',
  REGISTRY_ERROR = 'REGISTRY_ERROR',
  ENGINE_UNAVAILABLE = 'ENGINE_UNAVAILABLE',
  ENGINE_ERROR = 'ENGINE_ERROR',
  REDIS_UNAVAILABLE = 'REDIS_UNAVAILABLE',
  BUILD_FAILED = 'BUILD_FAILED',
  DOCKERFILE_INVALID = 'DOCKERFILE_INVALID',
  RUN_FAILED = 'RUN_FAILED',
  PLATFORM_MISMATCH = 'PLATFORM_MISMATCH',
  INSUFFICIENT_STORAGE = 'INSUFFICIENT_STORAGE',
  CANCELLED = 'CANCELLED',
  WORKER_LOST = 'WORKER_LOST',
  JOB_TIMEOUT = 'JOB_TIMEOUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED = 'RATE_LIMITED',
  QUEUE_FULL = 'QUEUE_FULL',
  /** A quota of stored things (DRYDOCK_TEAM_MAX_SECRETS) reached: 409, not 429, since waiting frees nothing; remove one first. */
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  /** A request named an engine that is not configured (`engine=`). */
  UNKNOWN_ENGINE = 'UNKNOWN_ENGINE',
  /** The image a request names is on several engines and the request named none: `details.engines` lists them. */
  AMBIGUOUS_ENGINE = 'AMBIGUOUS_ENGINE',
  /** A webhook URL that is malformed or reaches an address DRYDOCK_WEBHOOK_ALLOW does not list (private, loopback, link-local). */
  WEBHOOK_TARGET_REFUSED = 'WEBHOOK_TARGET_REFUSED',
  WEBHOOK_NOT_FOUND = 'WEBHOOK_NOT_FOUND',
  DELIVERY_NOT_FOUND = 'DELIVERY_NOT_FOUND',
  INTERNAL = 'INTERNAL',
}

export class DrydockError extends Error {
  /** What a client needs to act on the refusal (the candidate engines of AMBIGUOUS_ENGINE); sent with the problem. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details;
    this.name = 'DrydockError';
  }
}

export function isDrydockError(error: unknown): error is DrydockError {
  return error instanceof DrydockError;
}

/** Failures worth another attempt: the engine restarting, a registry briefly away. */
export function isTransient(code: ErrorCode): boolean {
  return code === ErrorCode.ENGINE_UNAVAILABLE || code === ErrorCode.REGISTRY_UNREACHABLE;
}
