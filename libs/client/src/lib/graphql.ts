import { createClient, type Client } from 'graphql-ws';
import type { TypedDocumentString } from '../generated/graphql';
import { isProblemResponse, problemError } from './problem';
import { url, type Transport } from './transport';

export interface GraphQLErrorJson {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/** A GraphQL answer with errors; `code` is the first error's stable code. */
export class DrydockGraphQLError extends Error {
  override readonly name = 'DrydockGraphQLError';
  readonly code: string | undefined;
  constructor(readonly errors: readonly GraphQLErrorJson[]) {
    super(errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '));
    this.code = errors[0]?.extensions?.code;
  }
}

/** One query or mutation over HTTP (`POST /graphql`), typed by its generated document. */
export async function request<TResult, TVariables>(
  transport: Transport,
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  signal?: AbortSignal,
): Promise<TResult> {
  const response = await transport.fetch(
    new Request(url(transport, '/graphql'), {
      method: 'POST',
      headers: { ...transport.headers, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      signal,
    }),
  );
  if (isProblemResponse(response)) throw await problemError(response);
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorJson[] };
  if (body.errors?.length) throw new DrydockGraphQLError(body.errors);
  if (!body.data) throw new DrydockGraphQLError([{ message: `an answer without data (HTTP ${response.status})` }]);
  return body.data;
}

/** One graphql-ws connection, opened at the first subscription, carrying the bearer token in connectionParams. */
export function subscriptions(transport: Transport, webSocketImpl: unknown): Client {
  return createClient({
    url: url(transport, '/graphql').replace(/^http/, 'ws'),
    webSocketImpl,
    connectionParams: () => ({ ...transport.headers }),
    lazy: true,
    // A resubscription after a reconnect starts the operation over (a jobEvents would replay): the caller decides.
    retryAttempts: 0,
  });
}

/** A subscription's payloads as an async iterator; an error payload is thrown, `signal` ends it. */
export async function* subscribe<TResult, TVariables>(
  client: Client,
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  signal?: AbortSignal,
): AsyncGenerator<TResult, void, undefined> {
  signal?.throwIfAborted();
  const iterator = client.iterate<TResult>({ query: document.toString(), variables: (variables ?? {}) as Record<string, unknown> });
  const stop = (): void => void iterator.return?.();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const result of iterator) {
      if (result.errors?.length) throw new DrydockGraphQLError(result.errors as unknown as GraphQLErrorJson[]);
      if (result.data) yield result.data as TResult;
    }
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener('abort', stop);
    await iterator.return?.();
  }
}
