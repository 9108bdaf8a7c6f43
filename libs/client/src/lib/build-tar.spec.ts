import type { IncomingMessage } from 'node:http';
import { localServer, type LocalServer } from '../testing/local-server';
import { buildTar } from './build-tar';
import { createDrydockClient } from './client';
import { DrydockProblemError } from './problem';

describe('buildTar', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const bodies: Buffer[] = [];
  const read = async (request: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it("sends the Blob as the tar body, the options as the Engine API's query, and answers the queued job", async () => {
    server = await localServer((request, response) => {
      void read(request).then((body) => {
        bodies.push(body);
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: 'job-1', type: 'BUILD', state: 'QUEUED' }));
      });
    });
    const client = createDrydockClient({ baseUrl: server.url, token: 't0ken' });
    const tar = new Blob([new Uint8Array([1, 2, 3, 4])]);

    const job = await buildTar(client, tar, { tags: ['team/app:1', 'team/app:latest'], buildArgs: { A: '1' }, secrets: ['npm'], engine: 'default', idempotencyKey: 'k-1' });

    expect(job).toMatchObject({ id: 'job-1', state: 'QUEUED' });
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(new URL(request?.url ?? '', server.url).searchParams.getAll('t')).toEqual(['team/app:1', 'team/app:latest']);
    expect(Object.fromEntries(new URL(request?.url ?? '', server.url).searchParams)).toMatchObject({ buildargs: '{"A":"1"}', secret: 'npm', engine: 'default' });
    expect(request?.headers).toMatchObject({ authorization: 'Bearer t0ken', 'content-type': 'application/x-tar', 'idempotency-key': 'k-1' });
    expect([...(bodies[0] ?? [])]).toEqual([1, 2, 3, 4]);
  });

  it('throws the problem of a refused build, and a problem with the status of an answer that is not one', async () => {
    server = await localServer((_request, response, index) => {
      if (index === 0) {
        response.writeHead(403, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ type: 'about:blank', title: 'Forbidden', status: 403, detail: 'not your namespace', code: 'FORBIDDEN' }));
        return;
      }
      response.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      response.end('<h1>proxy</h1>');
    });
    const client = createDrydockClient({ baseUrl: server.url, token: 't0ken' });
    const forbidden = await buildTar(client, new Blob(['x']), { tags: ['other/app:1'] }).catch((error: unknown) => error);
    expect(forbidden).toBeInstanceOf(DrydockProblemError);
    expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN', detail: 'not your namespace' });
    await expect(buildTar(client, new Blob(['x']), { tags: ['team/app:1'] })).rejects.toMatchObject({ name: 'DrydockProblemError', status: 502, code: 'INTERNAL' });
  });
});
