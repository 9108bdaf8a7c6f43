import createClient, { type Client as RestClient } from 'openapi-fetch';
import type { Client as SubscriptionClient } from 'graphql-ws';
import type { paths } from '../generated/openapi';
import type { TypedDocumentString } from '../generated/graphql';
import { request, subscribe, subscriptions } from './graphql';
import { problemMiddleware } from './problem';
import type { FetchLike, Transport } from './transport';
import { isTerminalEvent, watchJob, type Job, type JobEvent, type WatchJobOptions } from './watch-job';

export interface DrydockClientOptions {
  /** Where Drydock answers, e.g. `http://127.0.0.1:3000` (no `/v1`). */
  baseUrl: string;
  /** A bearer token; absent, requests go without one (health only). */
  token?: string;
  /** The fetch to use (default: the global one), called with a Request as openapi-fetch does. */
  fetch?: FetchLike;
  /** A WebSocket class for subscriptions where the platform has none (Node 20: the `ws` package). */
  webSocketImpl?: unknown;
}

export interface DrydockHelpers {
  readonly baseUrl: string;
  /** What the helpers of `@drydock/client/node` use to reach Drydock. */
  readonly transport: Transport;
  /** A job's events over SSE until it ends, resuming with `Last-Event-ID` when the stream is cut. */
  watchJob(id: string, options?: WatchJobOptions): AsyncGenerator<JobEvent, void, undefined>;
  /** Watches a job to its end and answers the job as it ended. */
  waitForJob(id: string, options?: Pick<WatchJobOptions, 'signal'>): Promise<Job>;
  /** A GraphQL query or mutation, typed by a generated document. */
  request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables, signal?: AbortSignal): Promise<TResult>;
  /** A GraphQL subscription over graphql-ws, as an async iterator of its payloads. */
  subscribe<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables, signal?: AbortSignal): AsyncGenerator<TResult, void, undefined>;
  /** Closes the subscriptions' socket, if one was opened. */
  close(): Promise<void>;
}

/** The openapi-fetch client of Drydock's REST API (`GET`, `POST`, … typed by path) and the helpers. */
export type DrydockClient = RestClient<paths> & DrydockHelpers;

/**
 * A client of one Drydock as one token. Every REST call and helper throws a
 * DrydockProblemError when Drydock answers problem+json, so `data` is the success.
 */
export function createDrydockClient(options: DrydockClientOptions): DrydockClient {
  const fetchImpl: FetchLike = options.fetch ?? ((input) => globalThis.fetch(input));
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const transport: Transport = { baseUrl: options.baseUrl, fetch: fetchImpl, headers };
  const rest = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), fetch: fetchImpl, headers });
  rest.use(problemMiddleware);

  let socket: SubscriptionClient | undefined;
  const socketClient = (): SubscriptionClient => {
    const impl = options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (!impl) throw new Error('no WebSocket on this platform: pass webSocketImpl (e.g. the ws package)');
    socket ??= subscriptions(transport, impl);
    return socket;
  };

  const helpers: DrydockHelpers = {
    baseUrl: options.baseUrl,
    transport,
    watchJob: (id, watchOptions) => watchJob(transport, id, watchOptions),
    async waitForJob(id, waitOptions = {}) {
      let last: JobEvent | undefined;
      for await (const event of watchJob(transport, id, waitOptions)) last = event;
      if (!last || !isTerminalEvent(last)) throw new Error(`the events of job ${id} ended without a terminal state`);
      const { data } = await rest.GET('/v1/jobs/{id}', { params: { path: { id } }, signal: waitOptions.signal });
      return data as Job;
    },
    request: (document, variables, signal) => request(transport, document, variables, signal),
    subscribe: (document, variables, signal) => subscribe(socketClient(), document, variables, signal),
    async close() {
      await socket?.dispose();
      socket = undefined;
    },
  };
  return Object.assign(rest, helpers);
}
