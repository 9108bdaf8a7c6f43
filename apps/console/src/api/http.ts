import { ProblemError, problemOf } from './problem';
import { storedToken } from './token';

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export interface CallOptions {
  query?: Query;
  /** JSON-encoded unless it is a Blob (sent as it is, with `contentType`). */
  body?: unknown;
  contentType?: string;
  /** Overrides the stored token: signing in checks a token before keeping it. */
  token?: string;
  signal?: AbortSignal;
}

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** One REST call; resolves the raw Response of a 2xx, rejects with a ProblemError otherwise. */
export async function send(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = options.token ?? storedToken();
  if (token) headers['authorization'] = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(`${path}${queryString(options.query)}`, { method, headers, body, signal: options.signal });
  } catch (error) {
    throw new ProblemError(0, 'NETWORK_ERROR', 'The API did not answer', error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  return (await response.json()) as T;
}

/** A reference is one percent-encoded path segment. */
export const seg = (value: string) => encodeURIComponent(value);
