import { createDrydockClient, type DrydockClient } from '@drydock/client';
import { networkProblem } from './problem';
import { storedToken } from './token';

/** The API is the console's own origin; a fetch that gets no answer at all is a problem the alert can say. */
export function clientFor(token: string | undefined): DrydockClient {
  return createDrydockClient({
    baseUrl: location.origin,
    token,
    fetch: (request) =>
      fetch(request).catch((error: unknown) => {
        throw networkProblem(error);
      }),
  });
}

let session: { token: string | null; client: DrydockClient } | null = null;

/** The signed-in client: one per token, so a new sign-in opens its live socket with the new token. */
export function drydock(): DrydockClient {
  const token = storedToken();
  if (!session || session.token !== token) {
    void session?.client.close();
    session = { token, client: clientFor(token ?? undefined) };
  }
  return session.client;
}

/** Signing out closes the socket: the next subscription signs in again with the new token. */
export function closeLive(): void {
  void session?.client.close();
  session = null;
}
