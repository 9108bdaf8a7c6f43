import { execFileSync } from 'node:child_process';
import type { Client } from 'graphql-ws';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, dockerBuild, removeImagesLabelled, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, gql, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { waitForJob } from '../support/jobs';
import { expectProblem } from '../support/problem';
import { SecondDockerd } from '../support/second-dockerd';

/**
 * Two engines behind one Drydock: the shared engine as `a` and an engine of
 * this suite's own as `b`. The catalogue merges them and says which engine
 * holds what; one engine going away leaves the other serving, and it comes
 * back without restarting Drydock.
 */

interface ImageBody {
  id: string;
  repoTags: Array<{ repository: string; tag: string }>;
  engines: string[];
}

interface EngineBody {
  name: string;
  host?: string | null;
  version: string | null;
  apiVersion: string | null;
  builders: string[] | null;
  healthy: boolean;
  images: number | null;
  runningJobs: number | null;
  waitingJobs: number | null;
  labels: Array<{ key: string; value: string }>;
}

interface ImageEventBody {
  action: string;
  reference: string | null;
  engine: string;
}

const SUITE_LABEL = 'drydock.e2e.suite';
const enc = encodeURIComponent;

describe('a catalogue per engine, with two engines', () => {
  const ns = uniqueNamespace('e2e-engines');
  const both = `${ns}/both:1`;
  const aOnly = `${ns}/a-only:1`;
  const bOnly = `${ns}/b-only:1`;
  let b: SecondDockerd;
  let running: RunningApp;
  let client: Client | undefined;
  const viewer = (): string => running.tokens['viewer'] as string;

  /** The images of this suite, by their first name, with the engines the list says hold them. */
  async function listed(query = ''): Promise<Record<string, string[]>> {
    const res = await api(running).get(`/v1/images?reference=${enc(`${ns}/*`)}${query}`).expect(200);
    const out: Record<string, string[]> = {};
    for (const image of res.body as ImageBody[]) {
      // The fixture's own name is on the same id as `both`: only this suite's names are asserted on.
      for (const t of image.repoTags) if (t.repository.startsWith(`${ns}/`)) out[`${t.repository}:${t.tag}`] = image.engines;
    }
    return out;
  }

  async function engines(token = viewer()): Promise<Record<string, EngineBody>> {
    const res = await api(running, token).get('/v1/engines').expect(200);
    return Object.fromEntries((res.body as EngineBody[]).map((engine) => [engine.name, engine]));
  }

  beforeAll(async () => {
    try {
      docker('image', 'inspect', testEnv.fixture);
    } catch {
      docker('pull', '-q', testEnv.fixture);
    }
    b = await SecondDockerd.start();
    // The same image (same id) on both engines: saved from a, loaded into b.
    execFileSync('sh', ['-c', `/usr/bin/docker save ${testEnv.fixture} | /usr/bin/docker -H ${b.host} load -q`]);
    docker('tag', testEnv.fixture, both);
    await b.docker('tag', testEnv.fixture, both);
    // An image on each engine only: a LABEL step makes a new id without running a container.
    dockerBuild(aOnly, `FROM ${testEnv.fixture}\nLABEL ${SUITE_LABEL}="${ns}" side="a"\n`);
    execFileSync('/usr/bin/docker', ['-H', b.host, 'build', '-q', '-t', bOnly, '-'], {
      input: `FROM ${testEnv.fixture}\nLABEL ${SUITE_LABEL}="${ns}" side="b"\n`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    running = await startApp(
      {
        DRYDOCK_ENGINES: JSON.stringify([
          { name: 'a', host: process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock', labels: { site: 'shared' } },
          { name: 'b', host: b.host, labels: { site: 'own', disk: 'small' } },
        ]),
        DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      },
      {
        tokens: [
          { name: 'viewer', team: 'team-a', role: 'viewer' },
          { name: 'builder', team: 'team-a', role: 'builder', namespaces: [`${ns}/**`] },
        ],
      },
    );
    // Both catalogues follow their engine before the suite starts asserting on health.
    await eventually(async () => (Object.values(await engines()).every((engine) => engine.healthy) ? true : undefined), 30_000, 'both engines healthy');
  }, 180_000);

  afterAll(async () => {
    await client?.dispose();
    if (running) {
      await running.close();
      await dropRedisKeys(running.config.keyPrefix);
    }
    await b?.destroy();
    try {
      docker('rmi', both);
    } catch {
      // Already gone.
    }
    removeImagesLabelled(SUITE_LABEL, ns);
  });

  it("merges both engines' images, each naming the engines that hold it, and lists one engine's with engine=", async () => {
    expect(await listed()).toEqual({ [both]: ['a', 'b'], [aOnly]: ['a'], [bOnly]: ['b'] });
    expect(await listed('&engine=b')).toEqual({ [both]: ['b'], [bOnly]: ['b'] });
    const res = await api(running).get(`/v1/images/${enc(both)}`).expect(200);
    expect(res.body.engines).toEqual(['a', 'b']);
    expectProblem(await api(running).get('/v1/images?engine=c'), 400, 'UNKNOWN_ENGINE');

    const overGraphql = await gql<{ images: ImageBody[]; image: ImageBody }>(
      running.url,
      'query($ref: String!, $b: String!) { images(filter: { reference: $ref, engine: $b }) { engines repoTags { repository tag } } image(ref: $ref) { engines } }',
      { ref: both, b: 'b' },
      running.auth,
    );
    expect(overGraphql.errors).toBeUndefined();
    expect(overGraphql.data?.images.map((image) => image.engines)).toEqual([['b']]);
    expect(overGraphql.data?.image.engines).toEqual(['a', 'b']);
  });

  it('describes both engines, healthy, with version, builders, images, jobs and labels; the host only to an admin', async () => {
    const seen = await engines();
    for (const name of ['a', 'b']) {
      const engine = seen[name] as EngineBody;
      expect(engine).toMatchObject({ name, healthy: true, version: expect.any(String), apiVersion: expect.stringMatching(/^1\.\d+$/) });
      expect(engine.builders).toContain('LEGACY');
      expect(engine.images).toBeGreaterThanOrEqual(2);
      expect(engine).toMatchObject({ runningJobs: expect.any(Number), waitingJobs: expect.any(Number) });
      expect(engine).not.toHaveProperty('host');
    }
    expect(seen['b']?.labels).toEqual([
      { key: 'site', value: 'own' },
      { key: 'disk', value: 'small' },
    ]);
    // b holds the fixture and the two names of this suite: nothing else.
    expect(seen['b']?.images).toBe(2);
    const asAdmin = await engines(running.token);
    expect(asAdmin['b']?.host).toBe(b.host);
    const overGraphql = await gql<{ engines: EngineBody[] }>(running.url, '{ engines { name host healthy images } }', {}, { authorization: `Bearer ${viewer()}` });
    expect(overGraphql.data?.engines.map((engine) => [engine.name, engine.host, engine.healthy])).toEqual([
      ['a', null, true],
      ['b', null, true],
    ]);
  });

  it('refuses to tag or remove an image both engines hold without engine, naming both, and changes nothing', async () => {
    const builder = running.tokens['builder'] as string;
    const tag = await api(running, builder).post(`/v1/images/${enc(both)}/tags`).send({ repository: `${ns}/both`, tag: '2' });
    expectProblem(tag, 409, 'AMBIGUOUS_ENGINE');
    expect(tag.body.engines).toEqual(['a', 'b']);
    const removal = await api(running, builder).delete(`/v1/images/${enc(both)}`);
    expectProblem(removal, 409, 'AMBIGUOUS_ENGINE');
    expect(removal.body.engines).toEqual(['a', 'b']);
    const overGraphql = await gql(
      running.url,
      'mutation($ref: String!, $repo: String!) { tagImage(source: $ref, repository: $repo, tag: "2") { id } }',
      { ref: both, repo: `${ns}/both` },
      { authorization: `Bearer ${builder}` },
    );
    expect(overGraphql.errors?.[0]?.extensions?.code).toBe('AMBIGUOUS_ENGINE');
    expect(await listed()).toEqual({ [both]: ['a', 'b'], [aOnly]: ['a'], [bOnly]: ['b'] });

    // Named, the tag goes to that engine only.
    await api(running, builder).post(`/v1/images/${enc(both)}/tags?engine=b`).send({ repository: `${ns}/both`, tag: '2' }).expect(201);
    expect((await listed())[`${ns}/both:2`]).toEqual(['a', 'b']);
    expect(await listed('&engine=a')).not.toHaveProperty(`${ns}/both:2`);
    await api(running, builder).delete(`/v1/images/${enc(`${ns}/both:2`)}`).expect(200);
    expect(await listed()).not.toHaveProperty(`${ns}/both:2`);

    // Pruning b alone (the shared engine a is left to its other users) answers b's result.
    const pruned = await api(running).post('/v1/images/prune?engine=b').send({}).expect(200);
    expect(pruned.body).toEqual({ deleted: expect.any(Array), spaceReclaimed: expect.any(Number) });
  });

  it("delivers a tag made on b over imageEvents, saying engine 'b'", async () => {
    client = wsClient(running.wsUrl, { authorization: `Bearer ${viewer()}` });
    const target = `${ns}/b-only:evented`;
    const probe = `${ns}/b-only:probe`;
    let events: ImageEventBody[] = [];
    let settled = false;
    const done = collect<ImageEventBody>(
      client,
      'subscription { imageEvents { action reference engine } }',
      {},
      (items) => {
        events = items;
        return items.some((event) => event.reference === target);
      },
      60_000,
    ).finally(() => (settled = true));
    // Ready once a probe tag on b arrives: nothing below can race the subscription's start.
    await eventually(
      async () => {
        if (settled) throw new Error(`the subscription ended early: ${JSON.stringify(events)}`);
        if (events.some((event) => event.reference === probe)) return true;
        await b.docker('tag', bOnly, probe);
        return undefined;
      },
      30_000,
      'the subscription receiving events',
    );
    await api(running, running.tokens['builder']).post(`/v1/images/${enc(bOnly)}/tags`).send({ repository: `${ns}/b-only`, tag: 'evented' }).expect(201);
    const all = await done;
    expect(all.find((event) => event.reference === target)).toEqual({ action: 'tag', reference: target, engine: 'b' });
    expect(all.filter((event) => event.reference === probe).every((event) => event.engine === 'b')).toBe(true);
  });

  it('marks b unhealthy within 10 s of its engine stopping while a keeps serving and building, and healthy again once it is back', async () => {
    await b.stop('SIGTERM');
    const stopped = Date.now();
    await eventually(async () => ((await engines())['b']?.healthy === false ? true : undefined), 10_000, 'b unhealthy in /v1/engines');
    const ready = await eventually(
      async () => {
        const res = await api(running).get('/health/ready');
        return res.body.engines?.b?.status === 'down' ? res : undefined;
      },
      10_000,
      'b down in /health/ready',
    );
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', engine: { status: 'up' }, engines: { a: { status: 'up' }, b: { status: 'down' } }, redis: { status: 'up' } });
    expect((await engines())['b']).toMatchObject({ healthy: false, version: null, images: null });
    expect(await listed('&engine=a')).toEqual({ [both]: ['a'], [aOnly]: ['a'] });
    expect(await listed()).toEqual({ [both]: ['a'], [aOnly]: ['a'] });
    expectProblem(await api(running).get(`/v1/images?engine=b`), 503, 'ENGINE_UNAVAILABLE');
    // New work goes to the engine that answers: a build naming no engine runs on a, to its end.
    const accepted = await api(running)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nLABEL ${SUITE_LABEL}="${ns}"\nRUN echo built while b is down`, tags: [`${ns}/while-b-down:1`], builder: 'LEGACY' })
      .expect(202);
    const built = await waitForJob(running.url, running.token, accepted.body.id, 90_000);
    expect({ state: built.state, engine: built.engine }).toEqual({ state: 'SUCCEEDED', engine: 'a' });

    await b.start();
    const started = Date.now();
    await eventually(async () => ((await engines())['b']?.healthy ? true : undefined), 10_000, 'b healthy again');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await api(running).get('/health/ready').expect(200)).body.engines.b).toEqual({ status: 'up' });
    expect(await listed()).toMatchObject({ [both]: ['a', 'b'], [bOnly]: ['b'] });
  });
});
