/** An API refusal as RFC 9457 problem details say it; every failed call becomes one, so nothing fails silently. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title);
    this.name = 'ProblemError';
  }

  static from(error: unknown): ProblemError {
    if (error instanceof ProblemError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ProblemError(0, 'CLIENT_ERROR', 'Something went wrong in the console', message);
  }
}

interface ProblemBody {
  title?: unknown;
  detail?: unknown;
  code?: unknown;
  status?: unknown;
}

/** Reads a non-2xx answer: problem+json when the API sent it, the status line otherwise. */
export async function problemOf(response: Response): Promise<ProblemError> {
  let body: ProblemBody = {};
  try {
    if (/json/.test(response.headers.get('content-type') ?? '')) body = (await response.json()) as ProblemBody;
  } catch {
    // A body that is not JSON leaves the status line to speak.
  }
  const text = (value: unknown, fallback: string) => (typeof value === 'string' && value ? value : fallback);
  return new ProblemError(response.status, text(body.code, `HTTP_${response.status}`), text(body.title, response.statusText || 'Request failed'), text(body.detail, ''));
}
