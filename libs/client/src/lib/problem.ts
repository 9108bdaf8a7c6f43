import type { Middleware } from 'openapi-fetch';
import type { components } from '../generated/openapi';

/** An RFC 9457 problem as Drydock answers it: `code` is the stable part. */
export type Problem = components['schemas']['Problem'];
export type ProblemCode = Problem['code'];

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** A problem+json answer is a few hundred bytes; past this it is not one we trust to parse. */
const MAX_PROBLEM_BYTES = 64 * 1024;

const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'instance', 'requestId']);

/** A refusal or failure Drydock answered as problem+json, thrown by every helper of the client. */
export class DrydockProblemError extends Error {
  override readonly name = 'DrydockProblemError';
  readonly status: number;
  readonly code: ProblemCode;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance: string | undefined;
  readonly requestId: string | undefined;
  /** The members beyond RFC 9457's and `code` (e.g. `engines` of AMBIGUOUS_ENGINE). */
  readonly extensions: Record<string, unknown>;

  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.requestId = problem.requestId;
    this.extensions = Object.fromEntries(Object.entries(problem).filter(([key]) => !STANDARD_MEMBERS.has(key)));
  }
}

export function isProblemResponse(response: Response): boolean {
  return !response.ok && (response.headers.get('content-type') ?? '').toLowerCase().startsWith(PROBLEM_MEDIA_TYPE);
}

/** The problem a response carries; a body that is not one (cut, too long, not JSON) still gives its status. */
export async function problemError(response: Response): Promise<DrydockProblemError> {
  const text = await readBounded(response, MAX_PROBLEM_BYTES).catch(() => '');
  let body: Partial<Problem> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Partial<Problem>;
  } catch {
    // Not JSON: the status line is all there is.
  }
  return statusProblem(response, body);
}

/** A failed answer as a problem: the members `body` has, the status line for the rest. */
export function statusProblem(response: Response, body: Partial<Problem> = {}): DrydockProblemError {
  return new DrydockProblemError({
    ...body,
    type: typeof body.type === 'string' ? body.type : 'about:blank',
    title: typeof body.title === 'string' ? body.title : response.statusText,
    status: typeof body.status === 'number' ? body.status : response.status,
    detail: typeof body.detail === 'string' ? body.detail : `HTTP ${response.status} ${response.statusText}`.trim(),
    code: typeof body.code === 'string' ? body.code : response.status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED',
  });
}

/**
 * The `data` of an openapi-fetch answer. The client throws problem+json answers,
 * so `data` is absent only when something else failed (a proxy's HTML 502):
 * that is thrown here too, as a problem with the answer's status.
 */
export function dataOf<T>(answer: { data?: T; response: Response }): T {
  if (answer.data === undefined || !answer.response.ok) throw statusProblem(answer.response);
  return answer.data;
}

/** openapi-fetch middleware: a problem+json answer becomes a thrown DrydockProblemError. */
export const problemMiddleware: Middleware = {
  async onResponse({ response }) {
    if (isProblemResponse(response)) throw await problemError(response);
    return undefined;
  },
};

/** The body as text, refusing (and cancelling) one longer than `max` bytes. */
async function readBounded(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) throw new Error(`a problem body over ${max} bytes`);
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined);
}
