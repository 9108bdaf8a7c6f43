import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyStatus, send } from './sender';
import type { CheckedTarget } from './target-policy';

function target(url: string, address = '127.0.0.1'): CheckedTarget {
  const parsed = new URL(url);
  return { url: parsed, hostname: parsed.hostname, port: Number(parsed.port), addresses: [{ address, family: 4 }] };
}

describe('classifyStatus', () => {
  it('delivers on 2xx, retries 408, 429 and 5xx, and takes any other answer as final', () => {
    expect([200, 201, 204, 299].map(classifyStatus)).toEqual(['success', 'success', 'success', 'success']);
    expect([408, 429, 500, 502, 503, 504].map(classifyStatus)).toEqual(Array(6).fill('retry'));
    expect([301, 302, 307, 400, 401, 404, 410, 413].map(classifyStatus)).toEqual(Array(8).fill('failure'));
  });
});

describe('send', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, body });
        if (req.url === '/500') res.writeHead(500).end('down');
        else if (req.url === '/404') res.writeHead(404).end();
        else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
        else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 2_000).unref();
        else if (req.url === '/endless') {
          res.writeHead(200);
          const chunk = Buffer.alloc(64 * 1024, 'x');
          const pump = () => {
            while (res.write(chunk)) {
              /* until backpressure */
            }
          };
          res.on('drain', pump);
          res.on('error', () => undefined);
          pump();
        } else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs the body with the signature headers and JSON content type', async () => {
    const result = await send(target(`${base}/ok`), { 'webhook-id': 'msg_1' }, '{"a":1}', 2_000);
    expect(result).toMatchObject({ outcome: 'success', responseCode: 200, error: null });
    expect(seen.at(-1)).toMatchObject({ path: '/ok', body: '{"a":1}', headers: { 'webhook-id': 'msg_1', 'content-type': 'application/json' } });
  });

  it('retries a 500, does not retry a 404, and does not follow a redirect', async () => {
    expect(await send(target(`${base}/500`), {}, '{}', 2_000)).toMatchObject({ outcome: 'retry', responseCode: 500 });
    expect(await send(target(`${base}/404`), {}, '{}', 2_000)).toMatchObject({ outcome: 'failure', responseCode: 404 });
    const before = seen.length;
    expect(await send(target(`${base}/redirect`), {}, '{}', 2_000)).toMatchObject({ outcome: 'failure', responseCode: 302 });
    expect(seen.slice(before).map((s) => s.path)).toEqual(['/redirect']);
  });

  it('gives up on a receiver past the timeout, and on a refused connection, both worth a retry', async () => {
    const slow = await send(target(`${base}/slow`), {}, '{}', 300);
    expect(slow).toMatchObject({ outcome: 'retry', responseCode: null, error: expect.stringMatching(/300 ms/) });
    expect(slow.durationMs).toBeLessThan(1_500);
    const closed = await send(target('http://127.0.0.1:1/'), {}, '{}', 2_000);
    expect(closed).toMatchObject({ outcome: 'retry', responseCode: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('reads a few KB of an endless answer and hangs up, delivered all the same', async () => {
    const result = await send(target(`${base}/endless`), {}, '{}', 5_000);
    expect(result).toMatchObject({ outcome: 'success', responseCode: 200 });
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it('connects to the address that was checked, never asking DNS again for the name', async () => {
    const port = new URL(base).port;
    const result = await send(target(`http://receiver.invalid:${port}/pinned`), {}, '{}', 2_000);
    expect(result).toMatchObject({ outcome: 'success', responseCode: 200 });
    expect(seen.at(-1)?.path).toBe('/pinned');
  });
});
