import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './target-policy';

/** What one attempt came to: delivered, worth another try, or not (a 4xx, a redirect, a refused address). */
export type AttemptOutcome = 'success' | 'retry' | 'failure';

export interface AttemptResult {
  outcome: AttemptOutcome;
  responseCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Most of a receiver's answer Drydock reads: enough to end the exchange, never a large body held in memory. */
export const RESPONSE_READ_MAX = 4096;

/**
 * 2xx delivered; timeouts, 408, 429 and 5xx are the receiver being briefly
 * unable, worth a retry; any other status is an answer (a 4xx refusal, a 3xx
 * that is not followed), and trying again would get the same one.
 */
export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'success';
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  return 'failure';
}

/** The socket connects to the addresses the policy checked, never to a second answer from DNS. */
function pinnedLookup(addresses: CheckedTarget['addresses']): LookupFunction {
  return (_hostname, options, callback) => {
    const all = (options as { all?: boolean }).all;
    if (all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
    else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
  };
}

/**
 * One POST of `body` to the checked target, within `timeoutMs` from the
 * first byte sent to the answer read. Redirects are not followed (Node's
 * client never does); at most RESPONSE_READ_MAX bytes of the answer are read.
 */
export function send(target: CheckedTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  const started = Date.now();
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (outcome: AttemptOutcome, responseCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ outcome, responseCode, error, durationMs: Date.now() - started });
    };
    const req = request(
      target.url,
      {
        method: 'POST',
        lookup: pinnedLookup(target.addresses),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Drydock-Webhooks/1',
        },
        // One connection per attempt: a kept-alive socket would skip the next attempt's address check.
        agent: false,
      },
      (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read >= RESPONSE_READ_MAX) finish(classifyStatus(status), status, null);
        });
        response.on('end', () => finish(classifyStatus(status), status, null));
        response.on('error', (error: Error) => finish(classifyStatus(status), status, error.message));
      },
    );
    const timer = setTimeout(() => finish('retry', null, `no answer within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish('retry', null, error.code ? `${error.code}: ${error.message}` : error.message));
    req.end(body);
  });
}
