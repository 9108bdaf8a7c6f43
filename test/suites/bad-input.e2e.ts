import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startApp, type RunningApp } from '../support/app';
import { docker, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';

/**
 * Bad input is the caller's fault, so it is a 4xx with a stable code, never a
 * 500, and it never hurts the service: every row below is refused with its
 * exact status, as application/problem+json (REST) or with extensions.code
 * (GraphQL), and afterwards the service still answers.
 */

const enc = encodeURIComponent;
/** Every name a case would create if it were wrongly accepted lives here; the last test checks none was. */
const ns = uniqueNamespace('e2e-bad-input');
const target = `${ns}/sinatra`;
/** Every prune body also filters on a label no image has: were one wrongly accepted, it would still prune nothing. */
const nothing = `drydock.e2e.nothing=${ns}`;
const DIGEST = `sha256:${'a'.repeat(64)}`;
const ABSENT_ID = `sha256:${'0'.repeat(64)}`;

interface RestCase {
  name: string;
  method: 'get' | 'post' | 'delete';
  path: string | ((ns: string) => string);
  /** a JSON value, or raw text sent with `contentType` */
  body?: unknown;
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  /** the detail must name the offending part */
  detail?: RegExp;
  /** send no Authorization header, or one that is not a known token (default: the suite's token) */
  auth?: 'none' | 'unknown' | 'malformed';
}

interface GraphQLCase {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** the HTTP status: 400 for a request that is not valid GraphQL, 200 for a resolver's refusal */
  status: number;
  code: string;
  /** for a resolver's refusal, the status extensions.status carries */
  errorStatus?: number;
  detail?: RegExp;
}

const imagePath = (ref: string) => `/v1/images/${enc(ref)}`;

const REST_CASES: RestCase[] = [
  // Invalid references in the path: rejected before the engine is asked.
  { name: 'uppercase repository', method: 'get', path: imagePath('Ubuntu'), status: 400, code: 'INVALID_REFERENCE', detail: /Ubuntu.*lowercase/ },
  { name: 'uppercase path component', method: 'get', path: imagePath('ouruser/Sinatra:v2'), status: 400, code: 'INVALID_REFERENCE', detail: /Sinatra/ },
  { name: 'empty tag (a:)', method: 'get', path: imagePath('a:'), status: 400, code: 'INVALID_REFERENCE', detail: /tag is empty/ },
  { name: 'an id that is not hex (sha256:zzz)', method: 'get', path: imagePath('sha256:zzz'), status: 400, code: 'INVALID_REFERENCE', detail: /sha256:zzz/ },
  { name: 'a short id with an upper-case hex digit', method: 'get', path: imagePath('sha256:ABCDEF012345'), status: 400, code: 'INVALID_REFERENCE', detail: /ABCDEF012345/ },
  { name: 'tag over 128 characters', method: 'get', path: imagePath(`ouruser/sinatra:${'v'.repeat(129)}`), status: 400, code: 'INVALID_REFERENCE', detail: /longer than 128/ },
  { name: 'tag starting with "-"', method: 'get', path: imagePath('ouruser/sinatra:-v2'), status: 400, code: 'INVALID_REFERENCE', detail: /-v2/ },
  { name: 'path traversal ..%2F..%2Fetc%2Fpasswd', method: 'get', path: '/v1/images/..%2F..%2Fetc%2Fpasswd', status: 400, code: 'INVALID_REFERENCE', detail: /\.\./ },
  { name: 'path traversal in history', method: 'get', path: '/v1/images/..%2F..%2Fetc%2Fpasswd/history', status: 400, code: 'INVALID_REFERENCE' },
  { name: 'a digest that is not hex', method: 'get', path: imagePath('ouruser/sinatra@sha256:xyz'), status: 400, code: 'INVALID_REFERENCE', detail: /sha256:xyz/ },
  { name: 'a digest of the wrong length', method: 'get', path: imagePath(`ouruser/sinatra@sha256:${'a'.repeat(63)}`), status: 400, code: 'INVALID_REFERENCE', detail: /64 hex/ },
  { name: 'a digest in upper case', method: 'get', path: imagePath(`ouruser/sinatra@sha256:${'A'.repeat(64)}`), status: 400, code: 'INVALID_REFERENCE', detail: /lowercase/ },
  { name: 'a digest algorithm the grammar allows but Docker does not support (blake3)', method: 'get', path: imagePath(`ouruser/sinatra@blake3:${'a'.repeat(64)}`), status: 400, code: 'INVALID_REFERENCE', detail: /unsupported digest algorithm "blake3"/ },
  { name: 'a pull by a digest whose algorithm Docker does not support (md5)', method: 'post', path: '/v1/images/pull', body: { reference: `busybox@md5:${'0f'.repeat(16)}` }, status: 400, code: 'INVALID_REFERENCE', detail: /unsupported digest algorithm "md5"/ },
  { name: 'whitespace inside', method: 'get', path: imagePath('ouruser/sin atra'), status: 400, code: 'INVALID_REFERENCE', detail: /whitespace/ },
  { name: 'a bad separator', method: 'get', path: imagePath('ouruser/sin..atra'), status: 400, code: 'INVALID_REFERENCE', detail: /separator/ },
  { name: 'an invalid registry port', method: 'get', path: imagePath('localhost:port/app'), status: 400, code: 'INVALID_REFERENCE', detail: /port/ },
  { name: 'an uppercase name after docker.io/', method: 'get', path: imagePath(`docker.io/${'A'.repeat(64)}`), status: 400, code: 'INVALID_REFERENCE', detail: /lowercase/ },
  { name: 'history of an invalid reference', method: 'get', path: `${imagePath('Bad:')}/history`, status: 400, code: 'INVALID_REFERENCE' },
  { name: 'remove an invalid reference', method: 'delete', path: imagePath('a:'), status: 400, code: 'INVALID_REFERENCE' },
  { name: 'tag an invalid source', method: 'post', path: `${imagePath('UPPER')}/tags`, body: { repository: target, tag: 'v1' }, status: 400, code: 'INVALID_REFERENCE' },

  // Credentials (the suite's own token is on every other row).
  { name: 'no bearer token', method: 'get', path: '/v1/images', auth: 'none', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'an unknown bearer token', method: 'get', path: '/v1/images', auth: 'unknown', status: 401, code: 'UNAUTHENTICATED' },
  { name: 'an Authorization header that is not Bearer', method: 'get', path: '/v1/images', auth: 'malformed', status: 401, code: 'UNAUTHENTICATED' },

  { name: 'a NUL byte in the reference', method: 'get', path: '/v1/images/a%00b', status: 400, code: 'INVALID_REFERENCE', detail: /\\u0000/ },

  // Absent images.
  { name: 'unknown image by reference', method: 'get', path: (ns) => imagePath(`${ns}/absent:nope`), status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'unknown image by full id', method: 'get', path: imagePath(ABSENT_ID), status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'unknown image by short id', method: 'get', path: imagePath('000000000000'), status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'unknown image by digest', method: 'get', path: (ns) => imagePath(`${testEnv.registry}/${ns}/absent@${DIGEST}`), status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'history of an unknown image', method: 'get', path: (ns) => `${imagePath(`${ns}/absent:nope`)}/history`, status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'remove an unknown image', method: 'delete', path: (ns) => imagePath(`${ns}/absent:nope`), status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'tag an unknown image', method: 'post', path: (ns) => `${imagePath(`${ns}/absent:nope`)}/tags`, body: { repository: target }, status: 404, code: 'IMAGE_NOT_FOUND' },
  { name: 'an unknown route', method: 'get', path: '/v1/nothing-here', status: 404, code: 'NOT_FOUND' },

  // Query strings.
  { name: 'list: dangling=maybe', method: 'get', path: '/v1/images?dangling=maybe', status: 400, code: 'VALIDATION_FAILED', detail: /dangling/ },
  { name: 'list: an unknown query field', method: 'get', path: '/v1/images?colour=blue', status: 400, code: 'VALIDATION_FAILED', detail: /colour/ },
  { name: 'list: an empty reference filter', method: 'get', path: '/v1/images?reference=', status: 400, code: 'VALIDATION_FAILED', detail: /reference/ },
  { name: 'list: a reference filter with characters no reference has', method: 'get', path: `/v1/images?reference=${enc('ubuntu;rm -rf')}`, status: 400, code: 'VALIDATION_FAILED', detail: /reference/ },
  { name: 'list: 33 label filters', method: 'get', path: `/v1/images?${Array.from({ length: 33 }, (_, i) => `label=k${i}`).join('&')}`, status: 400, code: 'VALIDATION_FAILED', detail: /label/ },
  { name: 'remove: force=perhaps', method: 'delete', path: (ns) => `${imagePath(`${ns}/absent:nope`)}?force=perhaps`, status: 400, code: 'VALIDATION_FAILED', detail: /force/ },
  { name: 'remove: an unknown query field', method: 'delete', path: (ns) => `${imagePath(`${ns}/absent:nope`)}?purge=true`, status: 400, code: 'VALIDATION_FAILED', detail: /purge/ },
  { name: 'list: reference given twice', method: 'get', path: '/v1/images?reference=a&reference=b', status: 400, code: 'VALIDATION_FAILED', detail: /reference/ },
  { name: 'search: a 300-character term', method: 'get', path: `/v1/search?term=${'x'.repeat(300)}`, status: 400, code: 'VALIDATION_FAILED', detail: /term/ },
  { name: 'search: no term', method: 'get', path: '/v1/search', status: 400, code: 'VALIDATION_FAILED', detail: /term/ },
  { name: 'search: an empty term', method: 'get', path: '/v1/search?term=', status: 400, code: 'VALIDATION_FAILED', detail: /term/ },
  { name: 'search: limit=0', method: 'get', path: '/v1/search?term=busybox&limit=0', status: 400, code: 'VALIDATION_FAILED', detail: /limit/ },
  { name: 'search: limit=100000', method: 'get', path: '/v1/search?term=busybox&limit=100000', status: 400, code: 'VALIDATION_FAILED', detail: /limit/ },
  { name: 'search: limit=abc', method: 'get', path: '/v1/search?term=busybox&limit=abc', status: 400, code: 'VALIDATION_FAILED', detail: /limit/ },
  { name: 'search: limit=-1', method: 'get', path: '/v1/search?term=busybox&limit=-1', status: 400, code: 'VALIDATION_FAILED', detail: /limit/ },
  { name: 'search: limit=2.5', method: 'get', path: '/v1/search?term=busybox&limit=2.5', status: 400, code: 'VALIDATION_FAILED', detail: /limit/ },
  { name: 'search: a registry that is no host', method: 'get', path: `/v1/search?term=busybox&registry=${enc('not a host')}`, status: 400, code: 'VALIDATION_FAILED', detail: /registry/ },
  { name: 'search: a registry given as a URL', method: 'get', path: `/v1/search?term=busybox&registry=${enc('http://localhost:5001')}`, status: 400, code: 'VALIDATION_FAILED', detail: /registry/ },
  { name: 'search: a registry with a path', method: 'get', path: `/v1/search?term=busybox&registry=${enc('localhost:5001/../admin')}`, status: 400, code: 'VALIDATION_FAILED', detail: /registry/ },
  { name: 'search: isOfficial=sometimes', method: 'get', path: '/v1/search?term=busybox&isOfficial=sometimes', status: 400, code: 'VALIDATION_FAILED', detail: /isOfficial/ },
  { name: 'search: minStars=-5', method: 'get', path: '/v1/search?term=busybox&minStars=-5', status: 400, code: 'VALIDATION_FAILED', detail: /minStars/ },
  { name: 'search: an unknown query field', method: 'get', path: '/v1/search?term=busybox&sort=stars', status: 400, code: 'VALIDATION_FAILED', detail: /sort/ },

  // Tag bodies.
  { name: 'tag: malformed JSON', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, raw: `{"repository": "${target}",`, contentType: 'application/json', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'tag: no body at all', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, status: 400, code: 'VALIDATION_FAILED', detail: /repository/ },
  { name: 'tag: a JSON array', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: [{ repository: target }], status: 400, code: 'VALIDATION_FAILED' },
  { name: 'tag: a JSON string', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, raw: `"${target}"`, contentType: 'application/json', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'tag: a text/plain body (a string, not an object)', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, raw: `repository=${target}`, contentType: 'text/plain', status: 400, code: 'VALIDATION_FAILED', detail: /repository/ },
  { name: 'tag: an XML body', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, raw: `<tag repository="${target}"/>`, contentType: 'application/xml', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'tag: a body over the 8 MiB JSON limit', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, raw: JSON.stringify({ repository: 'x'.repeat(9 * 1024 * 1024) }), contentType: 'application/json', status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'tag: an empty repository', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: '' }, status: 400, code: 'VALIDATION_FAILED', detail: /repository/ },
  { name: 'tag: a number for repository', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: 42 }, status: 400, code: 'VALIDATION_FAILED', detail: /repository/ },
  { name: 'tag: a number for tag', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: 7 }, status: 400, code: 'VALIDATION_FAILED', detail: /tag/ },
  { name: 'tag: a string for force', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: 'v1', force: 'yes' }, status: 400, code: 'VALIDATION_FAILED', detail: /force/ },
  { name: 'tag: an unknown body field', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: 'v1', privileged: true }, status: 400, code: 'VALIDATION_FAILED', detail: /privileged/ },
  { name: 'tag: an uppercase repository', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: `${ns}/Sinatra` }, status: 400, code: 'INVALID_REFERENCE', detail: /Sinatra/ },
  { name: 'tag: into a digest reference', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: `${target}@${DIGEST}` }, status: 400, code: 'INVALID_REFERENCE', detail: /digest/ },
  { name: 'tag: a digest reference plus a tag', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: `${target}@${DIGEST}`, tag: 'v1' }, status: 400, code: 'INVALID_REFERENCE', detail: /digest/ },
  { name: 'tag: a tag in repository and another in tag', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: `${target}:v1`, tag: 'v2' }, status: 400, code: 'INVALID_REFERENCE', detail: /v1/ },
  { name: 'tag: a tag over 128 characters', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: 't'.repeat(129) }, status: 400, code: 'INVALID_REFERENCE', detail: /longer than 128/ },
  { name: 'tag: an empty tag', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: '' }, status: 400, code: 'INVALID_REFERENCE', detail: /tag is empty/ },
  { name: 'tag: a tag with a slash', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: target, tag: 'v1/../v2' }, status: 400, code: 'INVALID_REFERENCE', detail: /v1\/\.\.\/v2/ },
  { name: 'tag: a 64-hex repository (ambiguous with an id)', method: 'post', path: `${imagePath(testEnv.fixture)}/tags`, body: { repository: 'a'.repeat(64) }, status: 400, code: 'INVALID_REFERENCE', detail: /64-character/ },

  // Prune bodies.
  { name: 'prune: a string for dangling', method: 'post', path: '/v1/images/prune', body: { dangling: 'yes', labels: [nothing] }, status: 400, code: 'VALIDATION_FAILED', detail: /dangling/ },
  { name: 'prune: until that is no duration or time', method: 'post', path: '/v1/images/prune', body: { until: 'last tuesday', labels: [nothing] }, status: 400, code: 'VALIDATION_FAILED', detail: /until/ },
  { name: 'prune: labels as a string, not a list', method: 'post', path: '/v1/images/prune', body: { labels: nothing }, status: 400, code: 'VALIDATION_FAILED', detail: /labels must be an array/ },
  { name: 'prune: numbers for labels', method: 'post', path: '/v1/images/prune', body: { labels: [nothing, 1, 2] }, status: 400, code: 'VALIDATION_FAILED', detail: /labels/ },
  { name: 'prune: an unknown body field', method: 'post', path: '/v1/images/prune', body: { all: true, labels: [nothing] }, status: 400, code: 'VALIDATION_FAILED', detail: /all/ },
  { name: 'prune: malformed JSON', method: 'post', path: '/v1/images/prune', raw: `{dangling: true, labels: ["${nothing}"]}`, contentType: 'application/json', status: 400, code: 'VALIDATION_FAILED' },
  // The router's own refusals, answered as problems through frameworkErrors.
  { name: 'broken percent-encoding in the path', method: 'get', path: '/v1/images/%E0%A4%A', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a path segment over the router limit (1100 characters)', method: 'get', path: imagePath('a'.repeat(1100)), status: 400, code: 'VALIDATION_FAILED' },
];

const GRAPHQL_CASES: GraphQLCase[] = [
  // Not valid GraphQL: refused before anything runs.
  { name: 'a syntax error', query: '{ images { id ', status: 400, code: 'VALIDATION_FAILED', detail: /Syntax Error/ },
  { name: 'an unknown field', query: '{ images { id colour } }', status: 400, code: 'VALIDATION_FAILED', detail: /colour/ },
  { name: 'an unknown query', query: '{ containersOfTheWorld { id } }', status: 400, code: 'VALIDATION_FAILED', detail: /containersOfTheWorld/ },
  { name: 'an argument of the wrong type', query: '{ image(ref: 42) { id } }', status: 400, code: 'VALIDATION_FAILED', detail: /String/ },
  { name: 'a required argument missing', query: '{ image { id } }', status: 400, code: 'VALIDATION_FAILED', detail: /ref/ },
  { name: 'a variable of the wrong type', query: 'query($ref: String!) { image(ref: $ref) { id } }', variables: { ref: 42 }, status: 400, code: 'VALIDATION_FAILED', detail: /ref/ },
  { name: 'a required variable missing', query: 'query($ref: String!) { image(ref: $ref) { id } }', status: 400, code: 'VALIDATION_FAILED', detail: /ref/ },
  { name: 'an unknown input field', query: '{ images(filter: { colour: "blue" }) { id } }', status: 400, code: 'VALIDATION_FAILED', detail: /colour/ },
  { name: 'a mutation argument of the wrong type', query: 'mutation { removeImage(ref: "x", force: "yes") { deleted } }', status: 400, code: 'VALIDATION_FAILED', detail: /Boolean/ },

  // Valid GraphQL, refused by the resolver: the same codes as REST.
  { name: 'image(ref) with an invalid reference', query: '{ image(ref: "Bad:") { id } }', status: 200, code: 'INVALID_REFERENCE', errorStatus: 400, detail: /Bad/ },
  { name: 'image(ref) with sha256:zzz', query: '{ image(ref: "sha256:zzz") { id } }', status: 200, code: 'INVALID_REFERENCE', errorStatus: 400, detail: /sha256:zzz/ },
  { name: 'imageHistory with a path traversal', query: '{ imageHistory(ref: "../../etc/passwd") { id } }', status: 200, code: 'INVALID_REFERENCE', errorStatus: 400 },
  { name: 'imageHistory of an unknown image', query: `{ imageHistory(ref: "${ABSENT_ID}") { id } }`, status: 200, code: 'IMAGE_NOT_FOUND', errorStatus: 404 },
  { name: 'tagImage into an uppercase repository', query: `mutation { tagImage(source: "${testEnv.fixture}", repository: "${ns}/Sinatra") { id } }`, status: 200, code: 'INVALID_REFERENCE', errorStatus: 400, detail: /Sinatra/ },
  { name: 'tagImage into a digest reference', query: `mutation { tagImage(source: "${testEnv.fixture}", repository: "${target}@${DIGEST}") { id } }`, status: 200, code: 'INVALID_REFERENCE', errorStatus: 400, detail: /digest/ },
  { name: 'tagImage with an over-long tag', query: `mutation { tagImage(source: "${testEnv.fixture}", repository: "${target}", tag: "${'t'.repeat(129)}") { id } }`, status: 200, code: 'INVALID_REFERENCE', errorStatus: 400, detail: /128/ },
  { name: 'removeImage with an invalid reference', query: 'mutation { removeImage(ref: "a:") { deleted } }', status: 200, code: 'INVALID_REFERENCE', errorStatus: 400 },
  { name: 'images with a reference filter no reference has', query: '{ images(filter: { reference: "ubuntu;rm" }) { id } }', status: 200, code: 'VALIDATION_FAILED', errorStatus: 400, detail: /reference/ },
  { name: 'searchImages with limit 0', query: '{ searchImages(term: "busybox", limit: 0) { name } }', status: 200, code: 'VALIDATION_FAILED', errorStatus: 400, detail: /limit/ },
  { name: 'searchImages with limit 100000', query: '{ searchImages(term: "busybox", limit: 100000) { name } }', status: 200, code: 'VALIDATION_FAILED', errorStatus: 400, detail: /limit/ },
  { name: 'searchImages with a bad registry', query: '{ searchImages(term: "busybox", registry: "http://x") { name } }', status: 200, code: 'VALIDATION_FAILED', errorStatus: 400, detail: /registry/ },
  { name: 'pruneImages with an until that is no time', query: `mutation { pruneImages(input: { until: "soon", labels: ["${nothing}"] }) { deleted } }`, status: 200, code: 'VALIDATION_FAILED', errorStatus: 400, detail: /until/ },
];

describe('bad input: refused with the right 4xx and code, never a 500, and harmless', () => {
  let running: RunningApp;
  /** The harness's admin token; set once the app runs. */
  let authorization = '';

  beforeAll(async () => {
    // This suite makes many changes quickly: the per-token mutation budget is not what it tests.
    running = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    authorization = running.auth.authorization;
  });

  afterAll(async () => {
    await running?.close();
  });

  it(`walks ${REST_CASES.length + GRAPHQL_CASES.length} bad requests (at least 40)`, () => {
    expect(REST_CASES.length + GRAPHQL_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set([...REST_CASES, ...GRAPHQL_CASES].map((c) => c.name)).size).toBe(REST_CASES.length + GRAPHQL_CASES.length);
  });

  async function expectRefused(c: RestCase): Promise<void> {
    const path = typeof c.path === 'function' ? c.path(ns) : c.path;
    let req = request(running.url)[c.method](path);
    if (c.auth === undefined) req = req.set('authorization', authorization);
    else if (c.auth === 'unknown') req = req.set('authorization', `Bearer e2e_${randomBytes(24).toString('hex')}`);
    else if (c.auth === 'malformed') req = req.set('authorization', `Basic ${Buffer.from('admin:admin').toString('base64')}`);
    if (c.raw !== undefined) req = req.set('content-type', c.contentType ?? 'application/json').send(c.raw);
    else if (c.body !== undefined) req = req.send(c.body as object);
    const res = await req;
    expect({ status: res.status, code: res.body?.code, detail: res.body?.detail }).toMatchObject({ status: c.status, code: c.code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: expect.stringMatching(/^https?:\/\//), title: expect.any(String), status: c.status, detail: expect.any(String) });
    if (c.detail) expect(res.body.detail).toMatch(c.detail);
  }

  describe('REST', () => {
    it.each(REST_CASES)('$method $name -> $status $code', expectRefused);
  });

  describe('GraphQL', () => {
    it.each(GRAPHQL_CASES)('$name -> $code', async (c) => {
      const res = await gql(running.url, c.query, c.variables ?? {}, { authorization });
      expect({ status: res.status, code: res.errors?.[0]?.extensions?.code, errors: res.errors }).toMatchObject({ status: c.status, code: c.code });
      if (c.errorStatus !== undefined) expect(res.errors?.[0]?.extensions).toMatchObject({ status: c.errorStatus });
      if (c.detail) expect(res.errors?.[0]?.message).toMatch(c.detail);
    });

    it('refuses a body that is not JSON', async () => {
      const res = await request(running.url)
        .post('/graphql')
        .set('authorization', authorization)
        .set('content-type', 'application/json')
        .send('{"query": "{ images { id } ');
      expect(res.status).toBe(400);
      expect(res.body.code ?? res.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    });

    it('refuses an operation without a bearer token with 401 UNAUTHENTICATED', async () => {
      const res = await gql(running.url, '{ images { id } }');
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  // One DTO under the REST body and the GraphQL arguments: what REST refuses, GraphQL refuses with the same code.
  const TAG_INPUTS: Array<{ name: string; input: { repository: string; tag?: string } }> = [
    { name: 'a 200-character tag', input: { repository: target, tag: 't'.repeat(200) } },
    { name: 'a 300-character tag', input: { repository: target, tag: 't'.repeat(300) } },
    { name: 'a 600-character repository', input: { repository: `${ns}/${'r'.repeat(600)}` } },
    { name: 'an empty repository', input: { repository: '' } },
  ];

  it.each(TAG_INPUTS)('refuses tagImage with $name over GraphQL with the code REST answers', async ({ input }) => {
    const rest = await request(running.url).post(`${imagePath(testEnv.fixture)}/tags`).set('authorization', authorization).send(input);
    expect(rest.status).toBe(400);
    const res = await gql(
      running.url,
      'mutation($source: String!, $repository: String!, $tag: String) { tagImage(source: $source, repository: $repository, tag: $tag) { id } }',
      { source: testEnv.fixture, ...input },
      { authorization },
    );
    expect({ code: res.errors?.[0]?.extensions?.code, data: res.data }).toEqual({ code: rest.body.code, data: null });
  });

  it('still answers afterwards: ready, lists images, and nothing was created', async () => {
    await request(running.url).get('/health/ready').expect(200);
    const list = await request(running.url).get('/v1/images').set('authorization', authorization).expect(200);
    expect(Array.isArray(list.body)).toBe(true);
    for (const image of list.body as Array<{ id: string }>) expect(image.id).toMatch(/^sha256:[a-f0-9]{64}$/);
    const viaGraphql = await gql<{ images: Array<{ id: string }> }>(running.url, '{ images { id } }', {}, { authorization });
    expect(viaGraphql.errors).toBeUndefined();
    // No refused request left anything behind.
    expect(docker('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${ns}/*`)).toBe('');
  });
});
