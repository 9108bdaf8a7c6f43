import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** One GraphQL request over HTTP. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

export function wsClient(wsUrl: string, connectionParams: Record<string, unknown> = {}): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/**
 * Subscribes and collects payloads until `until` says stop (or the server completes).
 * Rejects on a subscription error or when the deadline passes.
 */
export function collect<T>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (items: T[]) => boolean,
  deadlineMs = 30_000,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`subscription deadline passed with ${items.length} items: ${JSON.stringify(items).slice(0, 500)}`));
    }, deadlineMs);
    const finish = (error?: unknown): void => {
      clearTimeout(timer);
      unsubscribe();
      if (error) reject(error);
      else resolve(items);
    };
    unsubscribe = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) return finish(new Error(JSON.stringify(result.errors)));
          const value = Object.values(result.data ?? {})[0];
          if (value !== undefined) items.push(value);
          if (until(items)) finish();
        },
        error: (error) => finish(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => finish(),
      },
    );
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T>(probe: () => Promise<T | undefined>, deadlineMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
