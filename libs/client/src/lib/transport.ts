/** A fetch as openapi-fetch calls it: one Request in, one Response out. */
export type FetchLike = (request: Request) => Promise<Response>;

/** What every helper needs to reach Drydock: where, as whom, through which fetch. */
export interface Transport {
  baseUrl: string;
  fetch: FetchLike;
  /** `{ authorization: 'Bearer …' }`, or nothing without a token. */
  headers: Record<string, string>;
}

export function url(transport: Transport, path: string): string {
  return `${transport.baseUrl.replace(/\/+$/, '')}${path}`;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
