import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for specs: answers with `handler`, remembers the requests it saw. */
export interface LocalServer {
  url: string;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function localServer(handler: (request: IncomingMessage, response: ServerResponse, index: number) => void): Promise<LocalServer> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    handler(request, response, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One SSE frame as Drydock writes it. */
export function frame(sequence: number, kind: string, state: string | null = null): string {
  const event = { jobId: 'job-1', sequence, at: new Date(0).toISOString(), kind, state, message: null, progress: null };
  return `id: ${sequence}\nevent: ${kind.toLowerCase()}\ndata: ${JSON.stringify(event)}\n\n`;
}
