import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { createClient, type Client } from 'graphql-ws';

export interface ExplorerFetcher {
  fetcher: Fetcher;
  /** Closes the subscription socket (on sign-out). */
  dispose(): void;
}

/** ws(s)://<this host>/graphql: the API serves graphql-ws on the same path as HTTP. */
export function subscriptionUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
}

/**
 * Queries and mutations as JSON POSTs to /graphql (a JSON content type is what Apollo's CSRF
 * prevention asks of a browser), subscriptions over one lazily opened graphql-ws socket that
 * signs in with connection_init, since a browser cannot set headers on a WebSocket.
 */
export function explorerFetcher(token: string, location: Pick<Location, 'protocol' | 'host'>): ExplorerFetcher {
  const authorization = `Bearer ${token}`;
  const wsClient: Client = createClient({
    url: subscriptionUrl(location),
    connectionParams: { authorization },
    lazy: true,
    // A refused token closes with 4401: retrying would only be refused again.
    retryAttempts: 0,
  });
  const fetcher = createGraphiQLFetcher({
    url: '/graphql',
    headers: { authorization },
    wsClient,
    // Drydock answers no multipart (@defer) responses; plain JSON keeps the accept header simple.
    enableIncrementalDelivery: false,
  });
  return { fetcher, dispose: () => void wsClient.dispose() };
}
