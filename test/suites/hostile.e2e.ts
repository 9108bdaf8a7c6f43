import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { testEnv } from '../support/env';

/**
 * A thousand-odd malformed or hostile requests against one app: each must be
 * refused with a 4xx (never a 5xx, never a hang), and the service must serve
 * normally afterwards. Loopback only; bounded in time.
 */

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface Case {
  family: string;
  name: string;
  send(): Promise<Answer>;
  /** GraphQL refusals at execution time travel as 200 with a 4xx-class code in extensions. */
  graphqlExecution?: boolean;
}

const FOUR_XX_CODES = new Set(['VALIDATION_FAILED', 'INVALID_REFERENCE', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'IMAGE_NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED']);

const JSON_BODY_LIMIT = 64 * 1024;
const BUDGET_MS = 55_000;

describe('hostile requests', () => {
  let running: RunningApp;
  let base: string;
  let auth: string;
  /** A builder whose namespace nothing here names: a request that parses and validates stops at 403, harmlessly. */
  let builder: string;

  beforeAll(async () => {
    running = await startApp(
      {
        DRYDOCK_JSON_BODY_MAX_BYTES: String(JSON_BODY_LIMIT),
        // Every request here is refused before doing anything; the limit would only hide which check refused it.
        DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
      },
      { tokens: [{ name: 'hostile-builder', team: 'hostile', role: 'builder', namespaces: ['hostile-ns-never/*'] }] },
    );
    base = running.url;
    auth = `Bearer ${running.token}`;
    builder = `Bearer ${running.tokens['hostile-builder'] as string}`;
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  async function viaFetch(method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: auth, ...(init.headers ?? {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
  }

  /** Bytes straight onto a socket, for what a well-behaved client refuses to send. */
  function raw(payload: string | Buffer): Promise<Answer> {
    const port = Number(new URL(base).port);
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no answer in 10 s'));
      }, 10_000);
      socket.on('connect', () => socket.end(payload));
      socket.on('data', (chunk) => chunks.push(Buffer.from(chunk)));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('latin1');
        const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
        if (!match) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
        const contentType = /\r\ncontent-type: ([^\r\n]*)/i.exec(text)?.[1] ?? '';
        resolve({ status: Number(match[1]), contentType, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      });
    });
  }

  /** node:http, for headers too big for fetch to bother with. */
  function viaHttp(path: string, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(base + path, { method: 'GET', headers, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const graphql = (query: string, variables?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
    viaFetch('POST', '/graphql', { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });

  function cases(): Case[] {
    const list: Case[] = [];
    const add = (family: string, name: string, send: () => Promise<Answer>, graphqlExecution = false): void => {
      list.push({ family, name, send, graphqlExecution });
    };
    const json = { 'content-type': 'application/json' };

    // 1. Oversized and malformed bodies.
    for (const size of [JSON_BODY_LIMIT + 1, 2 * JSON_BODY_LIMIT, 1024 * 1024, 4 * 1024 * 1024]) {
      for (const path of ['/v1/images/prune', '/v1/images/busybox/tags', '/graphql', '/v1/registries/localhost:5002/credential']) {
        const method = path.includes('credential') ? 'PUT' : 'POST';
        add('oversized body', `${method} ${path} ${size} bytes`, () =>
          viaFetch(method, path, { headers: json, body: JSON.stringify({ repository: 'x'.repeat(size) }) }),
        );
      }
    }
    for (let i = 0; i < 20; i++) {
      add('oversized body', `declared length ${i}`, () =>
        raw(`POST /v1/images/prune HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${10 ** 9 + i}\r\nConnection: close\r\n\r\n{}`),
      );
    }
    const malformed = [
      '{', '[', '{"dangling": tru}', '{"a":1,}', "{'a':1}", '\u0000', '\uFEFF{}', '{"dangling": true}{"x":1}',
      '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"polluted": true}}}',
      '[' .repeat(20_000) + ']'.repeat(20_000), '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
      '"just a string"', '12345', 'null', 'true', '[]', '[{}]', '{"dangling": "yes"}', '{"until": "; rm -rf /"}',
      '{"labels": "not-an-array"}', '{"labels": [1, 2]}', '{"labels": [' + '"x",'.repeat(100) + '"x"]}',
      '{"privileged": true}', '{"dangling": true, "extra": 1}',
    ];
    for (const body of malformed) {
      // Prune as a builder: a body that parses is refused with 403, and nothing is ever pruned.
      add('malformed body', `prune ${JSON.stringify(body.slice(0, 40))}`, () => viaFetch('POST', '/v1/images/prune', { headers: { ...json, authorization: builder }, body }));
      add('malformed body', `tag ${JSON.stringify(body.slice(0, 40))}`, () => viaFetch('POST', '/v1/images/hostile%2Fnever/tags', { headers: json, body }));
      add('malformed body', `graphql ${JSON.stringify(body.slice(0, 40))}`, () => viaFetch('POST', '/graphql', { headers: json, body }));
      add('malformed body', `credential ${JSON.stringify(body.slice(0, 40))}`, () => viaFetch('PUT', '/v1/registries/localhost:5002/credential', { headers: json, body }));
    }
    for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-7', 'image/png']) {
      add('content type', `prune as ${contentType}`, () => viaFetch('POST', '/v1/images/prune', { headers: { 'content-type': contentType, authorization: builder }, body: '{"dangling":true}' }));
      add('content type', `tag as ${contentType}`, () => viaFetch('POST', '/v1/images/hostile%2Fnever/tags', { headers: { 'content-type': contentType }, body: '{"repository":"x"}' }));
      if (!contentType.startsWith('application/json')) {
        add('content type', `graphql as ${contentType}`, () => viaFetch('POST', '/graphql', { headers: { 'content-type': contentType }, body: '{"query":"{ images { id } }"}' }));
      }
    }

    // 2. Deep, wide and malformed GraphQL.
    for (const depth of [16, 20, 50, 100, 500, 1000, 3000]) {
      const deep = `{ images { config ${'{ cmd '.repeat(depth)}${'}'.repeat(depth)} } }`;
      add('deep graphql', `depth ${depth}`, () => graphql(deep));
      add('deep graphql', `introspection depth ${depth}`, () => graphql(`{ __schema { types { ${'fields { type { ofType '.repeat(depth)} name ${'} } '.repeat(depth)} } } }`));
    }
    for (const width of [1_001, 2_000, 5_000]) {
      add('wide graphql', `${width} aliases`, () => graphql(`{ ${Array.from({ length: width }, (_, i) => `a${i}: images { id }`).join(' ')} }`));
    }
    const bomb = Array.from({ length: 30 }, (_, i) => (i === 29 ? `fragment F${i} on Query { images { id } }` : `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`)).join(' ');
    add('wide graphql', 'fragment bomb', () => graphql(`{ ...F0 } ${bomb}`));
    add('wide graphql', 'fragment cycle', () => graphql('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }'));
    add('wide graphql', 'token flood', () => graphql(`{ images { ${'id '.repeat(30_000)} } }`));
    const badQueries = [
      '', '{', '}', '{ images { id }', 'query { nonexistent }', '{ images { nonexistent } }', 'mutation { nonexistent }',
      '{ image }', '{ image(ref: 1) { id } }', '{ images(filter: { reference: 1 }) { id } }', 'subscription { imageEvents { id } }',
      'query A { images { id } } query A { images { id } }', 'query($x: Int) { images { id } }', '{ __typename @nonexistent }',
      'fragment F on Query { images { id } }', '"string"', '# only a comment', '{ images { id } } garbage',
      `{ images(filter: { reference: "${'a'.repeat(10_000)}" }) { id } }`, '{ images { id(arg: 1) } }',
    ];
    // Argument validation runs in the resolver: those refusals travel as 200 with VALIDATION_FAILED.
    for (const query of badQueries) add('malformed graphql', JSON.stringify(query.slice(0, 50)), () => graphql(query), query.includes('a'.repeat(10_000)));
    for (const body of ['[{"query":"{ images { id } }"},{"query":"{ images { id } }"}]', '{"query": 1}', '{"query": null}', '{"query": ["{ images { id } }"]}', '{"query":"{ images { id } }","variables":"x"}', '{"query":"{ images { id } }","operationName":1}', '{"query":"{ images { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}']) {
      add('malformed graphql', `body ${body.slice(0, 50)}`, () => viaFetch('POST', '/graphql', { headers: json, body }));
    }
    add('malformed graphql', 'mutation over GET', () => viaFetch('GET', `/graphql?query=${encodeURIComponent('mutation { pruneImages { spaceReclaimed } }')}`, { headers: { 'apollo-require-preflight': 'true' } }));
    add('malformed graphql', 'GET without preflight header', () => viaFetch('GET', `/graphql?query=${encodeURIComponent('{ images { id } }')}`));

    // 3. Header abuse.
    for (let i = 0; i < 5; i++) add('header abuse', `one 20 KB header ${i}`, () => viaHttp('/v1/images', { authorization: auth, 'x-junk': 'x'.repeat(20_000 + i) }));
    for (let i = 0; i < 5; i++) add('header abuse', `100 KB of headers ${i}`, () => viaHttp('/v1/images', Object.fromEntries(Array.from({ length: 100 }, (_, j) => [`x-h${j}`, 'y'.repeat(1_000)]))));
    for (const count of [100, 500, 1_000, 3_000]) {
      add('header abuse', `${count} small headers, no token`, () => viaHttp('/v1/images', Object.fromEntries(Array.from({ length: count }, (_, j) => [`x-${j}`, '1']))));
    }
    for (const value of ['Bearer ' + 'a'.repeat(600), 'Bearer ' + 'a'.repeat(8_000), 'Bearer', 'Bearer  ', 'bearer\tX', 'Bearer a b c', 'Basic Zm9vOmJhcg==', 'Digest username="a"', 'Bearer \u00e9\u00e9', 'Bearer null', 'Bearer undefined', `Bearer ${running?.token ?? ''}x`, 'Bearer ddk_', 'Token abc', ' Bearer abc']) {
      for (const path of ['/v1/images', '/v1/audit', '/v1/registries']) {
        add('header abuse', `authorization ${JSON.stringify(value.slice(0, 30))} on ${path}`, () =>
          fetch(base + path, { headers: { authorization: value }, signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, contentType: r.headers.get('content-type') ?? '', body: await r.text() })),
        );
      }
    }
    for (let i = 0; i < 60; i++) {
      add('header abuse', `random token ${i}`, () =>
        fetch(base + (i % 2 ? '/v1/images' : '/v1/images/prune'), { method: i % 2 ? 'GET' : 'POST', headers: { authorization: `Bearer ddk_${Math.random().toString(36).repeat(4)}` }, signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, contentType: r.headers.get('content-type') ?? '', body: await r.text() })),
      );
    }
    for (const id of ['x'.repeat(129), '../../etc', 'a b', '<script>', '\u0000', 'id\r\nx-injected: 1']) {
      add('header abuse', `x-request-id ${JSON.stringify(id.slice(0, 20))} without token`, () =>
        raw(`GET /v1/images HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n`),
      );
    }
    const rawRequests = [
      `GET /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0001\u0002\r\nConnection: close\r\n\r\n`,
      `GET /v1/images HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nConnection: close\r\n\r\n`,
      `GET /v1/images HTTP/1.1\r\nHost: x\r\n: empty-name\r\nConnection: close\r\n\r\n`,
      `POST /v1/images/prune HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
      `POST /v1/images/prune HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`,
      `POST /v1/images/prune HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: -1\r\nConnection: close\r\n\r\n`,
      `POST /v1/images/prune HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `GET /v1/images HTTP/1.1\r\nConnection: close\r\n\r\n`,
      `GET /v1/images HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `G@T /v1/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /v1/images\u0000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET ${'/v1/images'.repeat(2_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET http://evil.example/v1/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /v1/images HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nExpect: 100-nonsense\r\nConnection: close\r\n\r\n`,
    ];
    for (const [i, payload] of rawRequests.entries()) add('header abuse', `raw request ${i}`, () => raw(payload));

    // 4. Path traversal and other nonsense in references.
    const references = [
      '..', '../..', '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '....//....//etc/passwd', '/etc/passwd',
      'busybox/../../../etc/passwd', 'busybox:../../x', 'busybox@sha256:../../x', 'c:\\windows\\system32', '\\\\server\\share',
      'file:///etc/passwd', 'http://evil.example/x', 'unix:///var/run/docker.sock', '%00', 'busybox%00:latest', 'busybox\u0000',
      'Busybox', 'BUSYBOX:LATEST', 'busybox:', ':latest', '@sha256:', 'busybox@', 'busybox@sha256:zz', 'busybox:' + 't'.repeat(200),
      'a/'.repeat(200) + 'a', 'x'.repeat(300), 'busybox;rm -rf /', 'busybox|id', 'busybox`id`', '$(id)', 'busybox&&id', '"><script>alert(1)</script>',
      "'; DROP TABLE images; --", '{"$ne": null}', '*', '**', '?', '[a-z]', 'sha256:', 'sha256:zzzz', 'sha256:' + 'a'.repeat(65), '\u202e', '😀',
      'localhost:99999/x', 'localhost:-1/x', '[::1/x', '-busybox', '.busybox', '_busybox', 'busybox..x', 'busybox__-x',
    ];
    for (const reference of references) {
      const segment = reference.includes('%') ? reference : encodeURIComponent(reference);
      add('reference', `inspect ${JSON.stringify(reference.slice(0, 30))}`, () => viaFetch('GET', `/v1/images/${segment}`));
      add('reference', `history ${JSON.stringify(reference.slice(0, 30))}`, () => viaFetch('GET', `/v1/images/${segment}/history`));
      add('reference', `remove ${JSON.stringify(reference.slice(0, 30))}`, () => viaFetch('DELETE', `/v1/images/${segment}`, { headers: { authorization: builder } }));
      add('reference', `tag from ${JSON.stringify(reference.slice(0, 30))}`, () =>
        viaFetch('POST', `/v1/images/${segment}/tags`, { headers: json, body: JSON.stringify({ repository: 'hostile/never', tag: 'x' }) }),
      );
      add('reference', `tag into ${JSON.stringify(reference.slice(0, 30))}`, () =>
        viaFetch('POST', `/v1/images/${encodeURIComponent(testEnv.fixture)}/tags`, { headers: { ...json, authorization: builder }, body: JSON.stringify({ repository: reference, tag: 'x' }) }),
      );
      add('reference', `graphql image ${JSON.stringify(reference.slice(0, 30))}`, () => graphql('query($r: String!) { imageHistory(ref: $r) { id } }', { r: reference }), true);
      add('reference', `graphql tagImage ${JSON.stringify(reference.slice(0, 30))}`, () =>
        graphql('mutation($r: String!, $s: String!) { tagImage(source: $s, repository: $r, tag: "x") { id } }', { r: reference, s: testEnv.fixture }, { authorization: builder }), true,
      );
    }
    for (const path of ['/v1/images/../../etc/passwd', '/v1/images/%2e%2e/%2e%2e/etc/passwd', '/v1/../../etc/passwd', '/..%2f..%2fetc/passwd', '/v1/images/' + 'a'.repeat(2_000), '/v1/images//', '/v1//images', '/%2e%2e/health/live/../../v1/images']) {
      // Raw: fetch would resolve the dot segments before sending them.
      add('reference', `path ${path.slice(0, 40)}`, () => raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nConnection: close\r\n\r\n`));
    }
    for (const host of ['..', '../../etc', 'localhost:5002/../x', 'a b', 'a'.repeat(300), 'localhost:99999999', '[::1', 'http://x', '%00', 'host;id']) {
      const segment = encodeURIComponent(host);
      add('reference', `credential host ${JSON.stringify(host.slice(0, 20))}`, () =>
        viaFetch('PUT', `/v1/registries/${segment}/credential`, { headers: json, body: JSON.stringify({ username: 'u', password: 'p' }) }),
      );
      add('reference', `credential delete ${JSON.stringify(host.slice(0, 20))}`, () => viaFetch('DELETE', `/v1/registries/${segment}/credential`));
      add('reference', `search registry ${JSON.stringify(host.slice(0, 20))}`, () => viaFetch('GET', `/v1/search?term=x&registry=${segment}`));
    }

    // 5. Injected filters and query strings.
    const filters = [
      'reference=*;rm%20-rf%20/', 'reference=%24(id)', 'reference=a%00b', 'reference=' + 'a'.repeat(600), 'reference=', 'reference[$ne]=x', 'reference[]=x',
      'reference=a&reference=b', 'dangling=maybe', 'dangling=1&dangling=0', 'dangling[]=true', 'label=' + 'l'.repeat(600), 'label[$gt]=',
      Array.from({ length: 40 }, (_, i) => `label=l${i}`).join('&'), '__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'unknown=1',
      'reference=%ZZ', 'reference=%', 'reference=' + encodeURIComponent('{"$where": "1"}'), 'reference=' + encodeURIComponent('<script>'),
      'reference=' + encodeURIComponent("' OR 1=1 --"), 'reference=%E2%80%AE', 'reference=%F0%9F%98%80',
    ];
    for (const query of filters) {
      add('injected filter', `images?${query.slice(0, 40)}`, () => viaFetch('GET', `/v1/images?${query}`));
      add('injected filter', `remove?${query.slice(0, 40)}`, () => viaFetch('DELETE', `/v1/images/hostile%2Fnever?${query.replace('reference', 'force')}`));
    }
    const searches = ['term=', 'term=' + 'x'.repeat(300), 'term=x&limit=0', 'term=x&limit=101', 'term=x&limit=-1', 'term=x&limit=1e9', 'term=x&limit=abc', 'term=x&minStars=-5', 'term=x&isOfficial=perhaps', 'term[$ne]=x', 'term=x&registry=' + encodeURIComponent('evil.example/../x'), 'term=x&unknown=1'];
    for (const query of searches) add('injected filter', `search?${query.slice(0, 40)}`, () => viaFetch('GET', `/v1/search?${query}`));
    for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'before=x', 'before=' + encodeURIComponent('+'), 'before=' + encodeURIComponent('(0-0'), 'before[]=1', 'extra=1']) {
      add('injected filter', `audit?${query}`, () => viaFetch('GET', `/v1/audit?${query}`));
    }
    const gqlFilters: Array<[string, unknown]> = [
      ['{ reference: "*;rm -rf /" }', undefined], ['{ reference: "$(id)" }', undefined], ['{ reference: "" }', undefined], ['{ label: ["' + 'x'.repeat(600) + '"] }', undefined],
      ['$f', { reference: { $ne: null } }], ['$f', { reference: ['a'] }], ['$f', { dangling: 'yes' }], ['$f', { label: Array.from({ length: 40 }, (_, i) => `l${i}`) }],
      ['$f', { unknown: 1 }], ['$f', JSON.parse('{"__proto__": {"polluted": true}}')], ['$f', 'not an object'], ['$f', { reference: '<script>' }],
    ];
    for (const [literal, variables] of gqlFilters) {
      const query = literal === '$f' ? 'query($f: ImageFilter) { images(filter: $f) { id } }' : `{ images(filter: ${literal}) { id } }`;
      // Literals and well-typed variables reach the resolver's validation (200 + VALIDATION_FAILED); ill-typed variables fail coercion (400).
      const execution = literal !== '$f' || (typeof variables === 'object' && variables !== null && !('unknown' in variables) && !Object.keys(variables).includes('__proto__') && !Array.isArray((variables as { reference?: unknown }).reference) && typeof (variables as { reference?: unknown }).reference !== 'object' && typeof (variables as { dangling?: unknown }).dangling !== 'string');
      add('injected filter', `graphql filter ${JSON.stringify(variables ?? literal).slice(0, 40)}`, () => graphql(query, variables === undefined ? undefined : { f: variables }), execution);
    }

    // 6. Methods and routes nobody serves.
    for (const method of ['PATCH', 'PUT', 'OPTIONS', 'TRACE', 'PROPFIND']) {
      for (const path of ['/v1/images', '/v1/images/busybox', '/v1/audit', '/v1/nonexistent', '/graphql']) {
        add('method', `${method} ${path}`, () => (method === 'TRACE' || method === 'PROPFIND' ? raw(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nConnection: close\r\n\r\n`) : viaFetch(method, path)));
      }
    }
    return list;
  }

  it('refuses at least 1,000 of them with a 4xx, and keeps serving', async () => {
    const all = cases();
    // Repeat the cheap families until there are at least 1,000 requests.
    const cheap = all.filter((c) => c.family === 'reference' || c.family === 'injected filter' || c.family === 'malformed graphql');
    const requests = [...all];
    for (let i = 0; requests.length < 1_000; i++) requests.push(cheap[i % cheap.length] as Case);
    expect(requests.length).toBeGreaterThanOrEqual(1_000);

    const started = Date.now();
    const failures: string[] = [];
    const byFamily = new Map<string, Map<number, number>>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const index = next++;
        const c = requests[index];
        if (!c) return;
        if (Date.now() - started > BUDGET_MS) throw new Error(`over the ${BUDGET_MS} ms budget at request ${index}`);
        let answer: Answer;
        try {
          answer = await c.send();
        } catch (error) {
          failures.push(`${c.family} / ${c.name}: no answer (${(error as Error).message})`);
          continue;
        }
        const counts = byFamily.get(c.family) ?? new Map<number, number>();
        counts.set(answer.status, (counts.get(answer.status) ?? 0) + 1);
        byFamily.set(c.family, counts);
        if (answer.status >= 400 && answer.status < 500) continue;
        if (c.graphqlExecution && answer.status === 200) {
          const code = (JSON.parse(answer.body) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
          if (code && FOUR_XX_CODES.has(code)) continue;
        }
        failures.push(`${c.family} / ${c.name}: ${answer.status} ${answer.body.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const elapsed = Date.now() - started;

    const summary = [...byFamily].map(([family, counts]) => `${family}: ${[...counts].map(([status, n]) => `${status}x${n}`).join(' ')}`).join('\n');
    process.stdout.write(`hostile requests: ${requests.length} in ${Date.now() - started} ms\n${summary}\n`);
    expect({ failures, summary }).toEqual({ failures: [], summary });
    expect(elapsed).toBeLessThan(BUDGET_MS);

    // Still serving, and still ready.
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    const list = await viaFetch('GET', '/v1/images');
    expect(list.status).toBe(200);
    expect(Array.isArray(JSON.parse(list.body))).toBe(true);
    const overGraphQL = await graphql('{ images { id } }');
    expect(overGraphQL.status).toBe(200);
  });

  it('answers its refusals as problem+json where the app (not the HTTP parser) refused', async () => {
    for (const path of ['/v1/images/..%2F..%2Fetc%2Fpasswd', '/v1/images?reference[$ne]=x', '/v1/images/busybox%00']) {
      const answer = await viaFetch('GET', path);
      expect(answer.status).toBe(400);
      expect(answer.contentType).toContain('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 400, code: expect.stringMatching(/^(INVALID_REFERENCE|VALIDATION_FAILED)$/) });
    }
    const tooBig = await viaFetch('POST', '/v1/images/prune', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'x'.repeat(JSON_BODY_LIMIT) }) });
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(tooBig.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const deep = await graphql(`{ images { config ${'{ cmd '.repeat(30)}${'}'.repeat(30)} } }`);
    expect(deep.status).toBe(400);
    expect(JSON.parse(deep.body).errors).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/nested deeper than the limit of 15/), extensions: expect.objectContaining({ code: 'VALIDATION_FAILED' }) }),
    );
  });
});
