import createClient from 'openapi-fetch';
import type { paths } from '../generated/openapi';
import { localServer, type LocalServer } from '../testing/local-server';
import { dataOf, DrydockProblemError, problemError, problemMiddleware } from './problem';

describe('problem errors', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('turns a problem+json answer of the REST client into a DrydockProblemError with its code, title, detail and extensions', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(409, { 'content-type': 'application/problem+json; charset=utf-8' });
      response.end(
        JSON.stringify({
          type: 'https://drydock.dev/problems/ambiguous-engine',
          title: 'Ambiguous engine',
          status: 409,
          detail: 'busybox:1 is on two engines',
          code: 'AMBIGUOUS_ENGINE',
          requestId: 'req-1',
          engines: ['a', 'b'],
        }),
      );
    });
    const client = createClient<paths>({ baseUrl: server.url });
    client.use(problemMiddleware);
    const failure = await client.GET('/v1/images/{ref}', { params: { path: { ref: 'busybox:1' } } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DrydockProblemError);
    expect(failure).toMatchObject({
      status: 409,
      code: 'AMBIGUOUS_ENGINE',
      title: 'Ambiguous engine',
      detail: 'busybox:1 is on two engines',
      requestId: 'req-1',
      extensions: { engines: ['a', 'b'] },
      message: '409 AMBIGUOUS_ENGINE: busybox:1 is on two engines',
    });
  });

  it('leaves an answer that is not problem+json to openapi-fetch', async () => {
    server = await localServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<h1>bad gateway</h1>');
    });
    const client = createClient<paths>({ baseUrl: server.url });
    client.use(problemMiddleware);
    const answer = await client.GET('/v1/engines');
    expect(answer.response.status).toBe(502);
    expect(answer.data).toBeUndefined();
  });

  it('still gives the status of a problem whose body is not JSON or is too long', async () => {
    const notJson = await problemError(new Response('oops', { status: 503, statusText: 'Service Unavailable', headers: { 'content-type': 'application/problem+json' } }));
    expect(notJson).toMatchObject({ status: 503, code: 'INTERNAL', title: 'Service Unavailable' });
    const huge = await problemError(new Response(`{"detail":"${'x'.repeat(100_000)}"}`, { status: 400, headers: { 'content-type': 'application/problem+json' } }));
    expect(huge).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', detail: 'HTTP 400' });
  });

  it('dataOf answers the data of a success, and throws a problem with the status of a failure that was not problem+json', async () => {
    server = await localServer((_request, response, index) => {
      if (index === 0) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify([{ name: 'default' }]));
        return;
      }
      response.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      response.end('<h1>proxy</h1>');
    });
    const client = createClient<paths>({ baseUrl: server.url });
    client.use(problemMiddleware);
    expect(dataOf(await client.GET('/v1/engines'))).toEqual([{ name: 'default' }]);
    const failure = await client.GET('/v1/engines').then(dataOf).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DrydockProblemError);
    expect(failure).toMatchObject({ status: 502, code: 'INTERNAL', title: 'Bad Gateway' });
  });
});
