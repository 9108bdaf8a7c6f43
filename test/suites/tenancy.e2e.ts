import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ContainerSweeper } from '../../apps/api/src/app/containers/sweeper';
import { dropRedisKeys, startApp, type RunningApp, type TokenSpec } from '../support/app';
import { docker, dockerBuild, removeImagesUnder, uniqueNamespace, volumeExists, volumesOf } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, gql, type GraphQLResponse } from '../support/graphql';
import { expectProblem } from '../support/problem';
import { api } from '../support/http';
import { waitForJob } from '../support/jobs';

/**
 * Issue 8's tenancy holes, each against the real engine, Redis and registry:
 * the image list's glob, GraphQL aliases and the mutation budget, build args
 * in history, registry search as a port probe, two installations on one
 * engine, and the volumes a run leaves behind.
 */

interface ContainerJson {
  id: string;
  jobId: string | null;
}

interface LayerJson {
  createdBy: string;
}

const enc = encodeURIComponent;

function codes(res: GraphQLResponse<unknown>): Array<string | undefined> {
  return (res.errors ?? []).map((error) => error.extensions?.code);
}

function imageExists(reference: string): boolean {
  return docker('images', '-q', reference) !== '';
}

/** Within a fixed one-minute rate window with at least `ms` left, so a budget cannot reset mid-test. */
async function windowWithRoom(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

describe('tenancy: one tenant cannot reach past its own', () => {
  const ns = uniqueNamespace('e2e-tenancy');
  const TOKENS: TokenSpec[] = [
    { name: 'builderA', team: 'team-a', role: 'builder', namespaces: [`${ns}-a/**`] },
    { name: 'viewerB', team: 'team-b', role: 'viewer', namespaces: [`${ns}-b/**`] },
    { name: 'builderB', team: 'team-b', role: 'builder', namespaces: [`${ns}-b/**`] },
  ];
  let running: RunningApp;
  const others: RunningApp[] = [];
  const as = (name: string) => api(running, running.tokens[name]);
  const query = <T = Record<string, unknown>>(app: RunningApp, name: string, text: string, variables: Record<string, unknown> = {}) =>
    gql<T>(app.url, text, variables, { authorization: `Bearer ${app.tokens[name]}` });

  /** Runs `cmd` in `image` as team-a and answers the container once its job has ended. */
  async function runToEnd(app: RunningApp, image: string, cmd: string[]): Promise<ContainerJson> {
    const job = await api(app, app.tokens['builderA']).post('/v1/containers').send({ image, cmd }).expect(202);
    await waitForJob(app.url, app.token, job.body.id);
    return eventually(async () => {
      const res = await api(app, app.tokens['builderA']).get('/v1/containers').query({ all: true }).expect(200);
      return (res.body as ContainerJson[]).find((c) => c.jobId === job.body.id);
    });
  }

  beforeAll(async () => {
    try {
      docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture);
    } catch {
      docker('pull', '-q', testEnv.fixture);
    }
    running = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0', DRYDOCK_REGISTRIES_ALLOW: testEnv.registry }, { tokens: TOKENS });
  });

  afterAll(async () => {
    const apps = [running, ...others].filter(Boolean);
    for (const app of apps) await app.close();
    for (const app of apps) {
      for (const id of docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${app.config.keyPrefix}`).split('\n').filter(Boolean)) {
        docker('rm', '-f', '-v', id);
      }
      await dropRedisKeys(app.config.keyPrefix);
    }
    removeImagesUnder(ns);
  });

  describe('the image list filter', () => {
    const pathological = '*a*a*a*a*a*a*a*a*a*a*b';

    beforeAll(() => {
      // A long name of a's is what makes a backtracking matcher explode on the pattern above.
      docker('tag', testEnv.fixture, `${ns}-a/${'a'.repeat(80)}:${'a'.repeat(80)}`);
    });

    it('answers a pattern of many wildcards promptly over REST and GraphQL, matching nothing', async () => {
      const rest = await as('viewerB').get('/v1/images').query({ reference: pathological }).expect(200);
      expect(rest.body).toEqual([]);
      const viaGraphql = await query<{ images: unknown[] }>(running, 'viewerB', 'query($r: String) { images(filter: { reference: $r }) { id } }', { r: `${ns}-a/${pathological}` });
      expect(viaGraphql.errors).toBeUndefined();
      expect(viaGraphql.data?.images).toEqual([]);
      // The matcher still finds what it should.
      const found = await as('viewerB').get('/v1/images').query({ reference: `${ns}-a/a*a?a:*a` }).expect(200);
      expect(found.body).toHaveLength(1);
    });

    it('refuses a pattern of more than 16 wildcards with 400 VALIDATION_FAILED, REST and GraphQL alike', async () => {
      const tooMany = `${'*a'.repeat(9)}${'?'.repeat(8)}`;
      const rest = await as('viewerB').get('/v1/images').query({ reference: tooMany });
      expectProblem(rest, 400, 'VALIDATION_FAILED');
      expect(rest.body.detail).toMatch(/at most 16 wildcards/);
      const viaGraphql = await query(running, 'viewerB', 'query($r: String) { images(filter: { reference: $r }) { id } }', { r: tooMany });
      expect(codes(viaGraphql)).toEqual(['VALIDATION_FAILED']);
      expect(viaGraphql.errors?.[0]?.message).toMatch(/at most 16 wildcards/);
    });
  });

  describe('GraphQL aliases', () => {
    const aliasedTags = (prefix: string, n: number) =>
      `mutation { ${Array.from({ length: n }, (_, i) => `t${i}: tagImage(source: "${testEnv.fixture}", repository: "${prefix}", tag: "t${i}") { id }`).join(' ')} }`;

    it('refuses an operation of more mutations than DRYDOCK_GRAPHQL_MAX_MUTATIONS before any runs', async () => {
      const repo = `${ns}-a/aliased`;
      const res = await query(running, 'builderA', aliasedTags(repo, 20));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['VALIDATION_FAILED']);
      expect(res.errors?.[0]?.message).toMatch(/runs 20 mutations; the limit is 10/);
      for (let i = 0; i < 20; i++) expect(imageExists(`${repo}:t${i}`)).toBe(false);
    });

    it('counts every aliased mutation against the per-minute budget', async () => {
      await windowWithRoom(15_000);
      const limited = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '5' }, { tokens: TOKENS });
      others.push(limited);
      // One operation of 6 when 5 are allowed: refused whole, nothing tagged.
      const six = await query(limited, 'builderB', aliasedTags(`${ns}-b/six`, 6));
      expect(six.status).toBe(429);
      expect(codes(six)).toEqual(['RATE_LIMITED']);
      for (let i = 0; i < 6; i++) expect(imageExists(`${ns}-b/six:t${i}`)).toBe(false);
      // 4 fit; 4 more in the same minute do not.
      const first = await query(limited, 'builderA', aliasedTags(`${ns}-a/first`, 4));
      expect(first.errors).toBeUndefined();
      expect(imageExists(`${ns}-a/first:t3`)).toBe(true);
      const second = await query(limited, 'builderA', aliasedTags(`${ns}-a/second`, 4));
      expect(second.status).toBe(429);
      expect(codes(second)).toEqual(['RATE_LIMITED']);
      for (let i = 0; i < 4; i++) expect(imageExists(`${ns}-a/second:t${i}`)).toBe(false);
    });
  });

  describe('build args in history', () => {
    const secret = `s3cret-${ns}`;
    const base = `${ns}-a/secretive:1`;
    const derived = `${ns}-b/derived:1`;

    beforeAll(() => {
      dockerBuild(base, `FROM ${testEnv.fixture}\nARG TOKEN\nRUN echo built > /built`, '--build-arg', `TOKEN=${secret}`);
      dockerBuild(derived, `FROM ${base}\nARG OWN\nRUN echo derived > /derived`, '--build-arg', 'OWN=team-b-value');
    });

    const history = async (name: string, ref: string) => {
      const res = await as(name).get(`/v1/images/${enc(ref)}/history`).expect(200);
      return (res.body as LayerJson[]).map((layer) => layer.createdBy);
    };

    it("shows another team's build-arg values to nobody but that team and admins, over REST and GraphQL", async () => {
      expect((await history('builderA', base)).join('\n')).toContain(`TOKEN=${secret}`);
      const asB = (await history('viewerB', base)).join('\n');
      expect(asB).not.toContain(secret);
      expect(asB).toContain('|1 TOKEN=<redacted>');
      const admin = await api(running).get(`/v1/images/${enc(base)}/history`).expect(200);
      expect(JSON.stringify(admin.body)).toContain(secret);

      const viaGraphql = await query<{ imageHistory: LayerJson[] }>(running, 'viewerB', 'query($r: String!) { imageHistory(ref: $r) { createdBy } }', { r: base });
      expect(viaGraphql.errors).toBeUndefined();
      expect(JSON.stringify(viaGraphql.data)).not.toContain(secret);
      expect(JSON.stringify(viaGraphql.data)).toContain('TOKEN=<redacted>');
    });

    it("hides the base image's values in the history of a team's own image built on it, and shows its own", async () => {
      const lines = (await history('viewerB', derived)).join('\n');
      expect(lines).toContain('OWN=team-b-value');
      expect(lines).not.toContain(secret);
    });
  });

  describe('registry search', () => {
    let listener: Server;
    let connections = 0;

    beforeAll(async () => {
      listener = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    it('refuses a registry that is neither allowed nor holds a credential of the team, before connecting to it', async () => {
      const probe = `127.0.0.1:${(listener.address() as AddressInfo).port}`;
      const rest = await as('viewerB').get('/v1/search').query({ term: 'x', registry: probe });
      expectProblem(rest, 403, 'FORBIDDEN');
      expect(rest.body.detail).toMatch(/DRYDOCK_REGISTRIES_ALLOW/);
      const viaGraphql = await query(running, 'viewerB', 'query($r: String) { searchImages(term: "x", registry: $r) { name } }', { r: probe });
      expect(codes(viaGraphql)).toEqual(['FORBIDDEN']);
      expectProblem(await as('viewerB').get('/v1/search').query({ term: 'x', registry: testEnv.authRegistry }), 403, 'FORBIDDEN');
      expect(connections).toBe(0);
    });

    it('searches a registry in DRYDOCK_REGISTRIES_ALLOW', async () => {
      const res = await as('viewerB').get('/v1/search').query({ term: 'busybox', registry: testEnv.registry }).expect(200);
      expect((res.body as Array<{ name: string }>).some((hit) => hit.name.endsWith('drydock-fixture/busybox'))).toBe(true);
    });
  });

  describe('two installations on one engine', () => {
    it("answers 404 for the other installation's container and never lists it, even to an admin", async () => {
      const other = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' }, { tokens: TOKENS });
      others.push(other);
      expect(other.config.keyPrefix).not.toBe(running.config.keyPrefix);
      const mine = await runToEnd(running, testEnv.fixture, ['true']);
      for (const token of [other.token, other.tokens['builderA'] as string]) {
        expectProblem(await api(other, token).get(`/v1/containers/${mine.id}`), 404, 'CONTAINER_NOT_FOUND');
        expectProblem(await api(other, token).get(`/v1/containers/${mine.id}/logs`), 404, 'CONTAINER_NOT_FOUND');
        const listed = await api(other, token).get('/v1/containers').query({ all: true }).expect(200);
        expect((listed.body as ContainerJson[]).map((c) => c.id)).not.toContain(mine.id);
      }
      expectProblem(await api(other).delete(`/v1/containers/${mine.id}`).query({ force: true }), 404, 'CONTAINER_NOT_FOUND');
      expectProblem(await api(other).post(`/v1/containers/${mine.id}/commit`).send({ repository: `${ns}-a/stolen`, tag: '1' }), 404, 'CONTAINER_NOT_FOUND');
      const viaGraphql = await gql<{ container: unknown }>(other.url, 'query($id: ID!) { container(id: $id) { id } }', { id: mine.id }, other.auth);
      expect(viaGraphql.data?.container ?? null).toBeNull();
      // Its own installation still sees it.
      await api(running).get(`/v1/containers/${mine.id}`).expect(200);
    });
  });

  describe("a run's anonymous volumes", () => {
    const withVolume = `${ns}-a/volume:1`;

    beforeAll(async () => {
      const source = await runToEnd(running, testEnv.fixture, ['true']);
      await as('builderA').post(`/v1/containers/${source.id}/commit`).send({ repository: `${ns}-a/volume`, tag: '1', changes: ['VOLUME /data'] }).expect(201);
    });

    it('go with the container when it is removed', async () => {
      const container = await runToEnd(running, withVolume, ['sh', '-c', 'echo kept > /data/file']);
      const volumes = volumesOf(container.id);
      expect(volumes).toHaveLength(1);
      expect(volumeExists(volumes[0] as string)).toBe(true);
      await as('builderA').delete(`/v1/containers/${container.id}`).expect(204);
      expect(volumeExists(volumes[0] as string)).toBe(false);
    });

    it('go with the container when the sweeper removes it', async () => {
      const container = await runToEnd(running, withVolume, ['true']);
      const volumes = volumesOf(container.id);
      expect(volumes).toHaveLength(1);
      expect(await running.app.get(ContainerSweeper).sweep(0)).toContain(container.id);
      expect(volumeExists(volumes[0] as string)).toBe(false);
    });
  });
});
