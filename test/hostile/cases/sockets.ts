import WebSocket from 'ws';
import { check, wsSendAndClose, type HostileCase, type Target } from '../harness';

const wsUrl = (target: Target): string => `${target.url.replace('http', 'ws')}/graphql`;

function initMessage(bytes: number): string {
  return JSON.stringify({ type: 'connection_init', payload: { junk: 'x'.repeat(bytes) } });
}

export const sockets: HostileCase[] = [
  ...[2, 16, 90].map(
    (mib): HostileCase => ({
      defect: '#8.5 graphql-ws message size',
      name: `an unauthenticated ${mib} MiB connection_init is refused with close code 1009`,
      async run(target) {
        const code = await wsSendAndClose(wsUrl(target), initMessage(mib * 1024 * 1024));
        check(code === 1009, `closed with ${code}`);
      },
    }),
  ),
  {
    defect: '#8.5 graphql-ws message size',
    name: 'ten sockets sending 90 MB each at once are all closed',
    async run(target) {
      const message = initMessage(90 * 1024 * 1024);
      const codes = await Promise.all(Array.from({ length: 10 }, () => wsSendAndClose(wsUrl(target), message, 60_000)));
      // 1009 when the frame's header arrived in time; 4408 when sending 900 MB took past the init timeout. Both refuse.
      check(codes.every((code) => code === 1009 || code === 4408), `closed with ${codes.join(',')}`);
    },
  },
  {
    defect: '#8.5 graphql-ws message size',
    name: 'an authenticated subscriber sending a 4 MiB subscribe message is closed',
    async run(target) {
      const code = await new Promise<number>((resolve) => {
        const socket = new WebSocket(wsUrl(target), 'graphql-transport-ws');
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${target.tokens.viewerA}` } })));
        socket.on('message', (data) => {
          if (JSON.parse(String(data)).type === 'connection_ack') {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { imageEvents { action } } # ${'x'.repeat(4 * 1024 * 1024)}` } }));
          }
        });
        socket.on('error', () => undefined);
        socket.on('close', (closeCode) => resolve(closeCode));
      });
      check(code === 1009, `closed with ${code}`);
    },
  },
  {
    defect: '#8.5 graphql-ws idle sockets',
    name: 'a socket that never sends connection_init is closed by the server',
    async run(target) {
      const code = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(wsUrl(target), 'graphql-transport-ws');
        const timer = setTimeout(() => {
          socket.terminate();
          reject(new Error('the server kept a silent socket open for 30 s'));
        }, 30_000);
        socket.on('error', () => undefined);
        socket.on('close', (closeCode) => {
          clearTimeout(timer);
          resolve(closeCode);
        });
      });
      check(code === 4408, `closed with ${code}`);
    },
  },
];
