import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this request was answered with. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses to answer with, in order; once used up, 200. */
  answers: number[];
  close(): Promise<void>;
}

/** A webhook receiver: a node:http server on 127.0.0.1 that records every request and answers as told. */
export async function startReceiver(answers: number[] = []): Promise<Receiver> {
  const received: Received[] = [];
  const receiver = { received, answers: [...answers] } as Omit<Receiver, 'url' | 'close'>;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const answered = receiver.answers.shift() ?? 200;
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      response.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  } as Receiver;
}

/** The parsed bodies of what a receiver got, with the headers they came with. */
export function payloads(receiver: Receiver): { type: string; data: { job?: { id: string; team: string | null } }; headers: IncomingHttpHeaders; raw: string }[] {
  return receiver.received.map((r) => ({ ...(JSON.parse(r.body) as { type: string; data: { job?: { id: string; team: string | null } } }), headers: r.headers, raw: r.body }));
}
