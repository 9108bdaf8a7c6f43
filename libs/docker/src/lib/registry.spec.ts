import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@drydock/core';
import { RegistryClient } from './registry';

/** A loopback HTTP server answering with `handle`; it records every request it gets. */
async function serve(handle: (req: IncomingMessage) => { status: number; headers?: Record<string, string>; body?: unknown }) {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    const answer = handle(req);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const credential = { username: 'team-a', password: 'stored-secret' };

describe('RegistryClient token realms', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  /** A hostile registry: every request without a bearer token gets a challenge naming `realm()`. */
  async function registry(realm: () => string) {
    const server = await serve((req) =>
      req.headers.authorization === 'Bearer granted'
        ? { status: 200, body: { repositories: ['team-a/app'] } }
        : { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm()}",service="x"` } },
    );
    closers.push(server.close);
    return server;
  }

  async function authServer() {
    const server = await serve(() => ({ status: 200, body: { token: 'granted' } }));
    closers.push(server.close);
    return server;
  }

  it('refuses a realm on another port of the same address, and sends the credential nowhere', async () => {
    const elsewhere = await authServer();
    const hostile = await registry(() => `http://${elsewhere.host}/token`);
    const client = new RegistryClient(hostile.host, credential);
    await expect(client.catalog(10)).rejects.toMatchObject({ code: ErrorCode.REGISTRY_UNAUTHORIZED, message: expect.stringMatching(/token realm/) });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses a realm that is no http(s) URL', async () => {
    const hostile = await registry(() => 'file:///etc/passwd');
    await expect(new RegistryClient(hostile.host, credential).catalog(10)).rejects.toMatchObject({ code: ErrorCode.REGISTRY_UNAUTHORIZED });
  });

  it("follows a realm on the registry's own host", async () => {
    let self = '';
    const own = await serve((req) =>
      req.url?.startsWith('/token')
        ? { status: 200, body: { token: 'granted' } }
        : req.headers.authorization === 'Bearer granted'
          ? { status: 200, body: { repositories: ['team-a/app'] } }
          : { status: 401, headers: { 'www-authenticate': `Bearer realm="http://${self}/token"` } },
    );
    closers.push(own.close);
    self = own.host;
    expect(await new RegistryClient(own.host, credential).catalog(10)).toEqual(['team-a/app']);
  });

  it('follows a realm on an allowed host, sending the credential there', async () => {
    const auth = await authServer();
    const hostile = await registry(() => `http://${auth.host}/token`);
    const client = new RegistryClient(hostile.host, credential, { realmHosts: [auth.host] });
    expect(await client.catalog(10)).toEqual(['team-a/app']);
    expect(auth.requests).toHaveLength(1);
    expect(auth.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('team-a:stored-secret').toString('base64')}`);
  });

  it('does not follow a redirect away from the registry', async () => {
    const target = await authServer();
    const redirecting = await serve(() => ({ status: 307, headers: { location: `http://${target.host}/v2/_catalog` } }));
    closers.push(redirecting.close);
    await expect(new RegistryClient(redirecting.host, credential).catalog(10)).rejects.toMatchObject({ code: ErrorCode.REGISTRY_ERROR });
    expect(target.requests).toHaveLength(0);
  });
});
