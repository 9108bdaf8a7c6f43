import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on loopback in front of Drydock that cuts the first job event
 * stream it carries right after the event with sequence `cutAfter`, as a
 * dropped connection would, and remembers each events request's Last-Event-ID.
 */
export interface CuttingProxy {
  url: string;
  /** The Last-Event-ID of each `GET …/events` request, in order (null when absent). */
  lastEventIds: Array<string | null>;
  /** Whether the cut has happened. */
  readonly cut: boolean;
  close(): Promise<void>;
}

export async function cuttingProxy(target: string, cutAfter: number): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const lastEventIds: Array<string | null> = [];
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let cuttingThis = false;
    let seen = '';
    client.on('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      if (/^GET \S+\/events[ ?]/.test(head)) {
        lastEventIds.push(/\r\nlast-event-id: *([^\r\n]*)/i.exec(head)?.[1] ?? null);
        if (!cut) cuttingThis = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cuttingThis || cut) return void client.write(chunk);
      seen += chunk.toString('latin1');
      const at = seen.indexOf(`"sequence":${cutAfter},`);
      const end = at === -1 ? -1 : seen.indexOf('\n\n', at);
      if (end === -1) return;
      // Everything up to the end of that event's frame, then the connection drops.
      cut = true;
      client.end(Buffer.from(seen.slice(0, end + 2), 'latin1'), () => {
        client.destroy();
        upstream.destroy();
      });
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lastEventIds,
    get cut() {
      return cut;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
