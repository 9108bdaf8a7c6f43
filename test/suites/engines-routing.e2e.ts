import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';
import { api } from '../support/http';
import { tarContext, waitForJob, type JobJson } from '../support/jobs';
import { expectProblem } from '../support/problem';
import { SecondDockerd } from '../support/second-dockerd';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

type EngineJob = JobJson & { engine: string };

/**
 * Two engines behind one Drydock: `a` the shared engine, `b` one of this
 * suite's own. Work on an image goes where the image is; new work to a healthy
 * engine; a request may name one; every job and container says its engine.
 */
describe('routing work between two engines', () => {
  const ns = uniqueNamespace('e2e-routing');
  const built = `${testEnv.registry}/${ns}/app:1`;
  const committed = `${ns}/snap:1`;
  const sharedHost = process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
  let b: SecondDockerd;
  let running: RunningApp;
  /** Containers runs left on the shared engine, removed after. */
  const onA: string[] = [];
  let containerOnB = '';

  /** Whether each engine has the image, asked of it with the docker CLI. */
  const on = {
    a: async (ref: string) => imageOn(() => run('/usr/bin/docker', ['-H', sharedHost, 'image', 'inspect', '--format', '{{.Id}}', ref])),
    b: async (ref: string) => imageOn(() => b.docker('image', 'inspect', '--format', '{{.Id}}', ref)),
  };
  const done = async (accepted: { body: EngineJob }): Promise<EngineJob> =>
    (await waitForJob(running.url, running.token, accepted.body.id, 90_000)) as EngineJob;

  beforeAll(async () => {
    b = await SecondDockerd.start();
    // The fixture is on the shared engine for every suite; made sure of here, as this suite runs it there.
    docker('pull', testEnv.fixture);
    running = await startApp({
      DRYDOCK_ENGINES: JSON.stringify([
        { name: 'a', host: sharedHost },
        { name: 'b', host: b.host },
      ]),
      DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    });
  }, 120_000);

  afterAll(async () => {
    for (const id of onA) {
      try {
        docker('rm', '-f', id);
      } catch {
        // Gone already.
      }
    }
    removeImagesUnder(ns);
    await running?.close();
    if (running) await dropRedisKeys(running.config.keyPrefix);
    await b?.destroy();
  }, 120_000);

  it('pulls into the engine a request names, and the job says so', async () => {
    const accepted = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture, engine: 'b' }).expect(202);
    expect(accepted.body.engine).toBe('b');
    const job = await done(accepted);
    expect(job).toMatchObject({ state: 'SUCCEEDED', engine: 'b' });
    expect(await on.b(testEnv.fixture)).toBe(true);
  });

  it('answers an engine that is not configured with 400 UNKNOWN_ENGINE, over REST and GraphQL', async () => {
    const pull = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture, engine: 'nope' });
    expectProblem(pull, 400, 'UNKNOWN_ENGINE');
    expect(pull.body.engines).toEqual(['a', 'b']);
    expectProblem(await api(running).get('/v1/containers?engine=nope'), 400, 'UNKNOWN_ENGINE');
    const graphql = await gql<{ pullImage: { id: string } }>(
      running.url,
      'mutation ($input: PullImageInput!) { pullImage(input: $input) { id } }',
      { input: { reference: testEnv.fixture, engine: 'nope' } },
      running.auth,
    );
    expect(graphql.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_ENGINE', engines: ['a', 'b'] });
  });

  it('builds on engine b when sent there, and the image is on b only', async () => {
    const context = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\nRUN echo built-on-b > /where\n` });
    const accepted = await api(running)
      .post(`/v1/builds?engine=b&t=${encodeURIComponent(built)}`)
      .set('content-type', 'application/x-tar')
      .send(context)
      .expect(202);
    const job = await done(accepted);
    expect(job).toMatchObject({ state: 'SUCCEEDED', engine: 'b' });
    expect(await on.b(built)).toBe(true);
    expect(await on.a(built)).toBe(false);
  });

  it('pushes the image from b without being told, and it reaches the registry', async () => {
    const accepted = await api(running).post(`/v1/images/${encodeURIComponent(built)}/push`).send({}).expect(202);
    const job = await done(accepted);
    expect(job).toMatchObject({ state: 'SUCCEEDED', engine: 'b' });
    const tags = (await (await fetch(`http://${testEnv.registry}/v2/${ns}/app/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['1']);
  });

  it('runs an image only on b on b, without being told', async () => {
    const accepted = await api(running).post('/v1/containers').send({ image: built, cmd: ['cat', '/where'] }).expect(202);
    const job = await done(accepted);
    expect(job).toMatchObject({ state: 'SUCCEEDED', engine: 'b' });
    containerOnB = job.result?.containerId as string;
    expect(await b.docker('container', 'inspect', '--format', '{{.Id}}', containerOnB)).toBe(containerOnB);
  });

  it('answers a run of an image on both engines with 409 AMBIGUOUS_ENGINE naming both, over REST and GraphQL', async () => {
    const run = await api(running).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['true'] });
    expectProblem(run, 409, 'AMBIGUOUS_ENGINE');
    expect(run.body.engines).toEqual(['a', 'b']);
    const graphql = await gql(
      running.url,
      'mutation ($input: RunContainerInput!) { runContainer(input: $input) { id } }',
      { input: { image: testEnv.fixture, cmd: ['true'] } },
      running.auth,
    );
    expect(graphql.errors?.[0]?.extensions).toMatchObject({ code: 'AMBIGUOUS_ENGINE', engines: ['a', 'b'] });
  });

  it("lists both engines' containers, each with its engine, and one engine's when asked", async () => {
    const accepted = await api(running).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['true'], engine: 'a' }).expect(202);
    const job = await done(accepted);
    expect(job).toMatchObject({ state: 'SUCCEEDED', engine: 'a' });
    const containerOnA = job.result?.containerId as string;
    onA.push(containerOnA);

    const listed = (await api(running).get('/v1/containers?all=true').expect(200)).body as Array<{ id: string; engine: string }>;
    const engineOf = new Map(listed.map((container) => [container.id, container.engine]));
    expect(engineOf.get(containerOnA)).toBe('a');
    expect(engineOf.get(containerOnB)).toBe('b');
    const onlyB = (await api(running).get('/v1/containers?all=true&engine=b').expect(200)).body as Array<{ engine: string }>;
    expect(new Set(onlyB.map((container) => container.engine))).toEqual(new Set(['b']));
    expect((await api(running).get(`/v1/containers/${containerOnB}`).expect(200)).body.engine).toBe('b');
    expectProblem(await api(running).get(`/v1/containers/${containerOnB}?engine=a`), 404, 'CONTAINER_NOT_FOUND');

    const graphql = await gql<{ containers: Array<{ id: string; engine: string }> }>(running.url, '{ containers(all: true) { id engine } }', {}, running.auth);
    expect(graphql.data?.containers).toEqual(expect.arrayContaining([{ id: containerOnA, engine: 'a' }, { id: containerOnB, engine: 'b' }]));
  });

  it('commits a container on b into an image on b', async () => {
    const [repository, tag] = committed.split(':') as [string, string];
    await api(running).post(`/v1/containers/${containerOnB}/commit`).send({ repository, tag }).expect(201);
    expect(await on.b(committed)).toBe(true);
    expect(await on.a(committed)).toBe(false);
  });

  it('pulls into a healthy engine when none is named, and the job says which', async () => {
    const accepted = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture }).expect(202);
    const job = await done(accepted);
    expect(job.state).toBe('SUCCEEDED');
    expect(['a', 'b']).toContain(job.engine);
    expect(await on[job.engine as 'a' | 'b'](testEnv.fixture)).toBe(true);
  });

  it('lists the jobs of one engine', async () => {
    const jobs = (await api(running).get('/v1/jobs?engine=b&limit=500').expect(200)).body as EngineJob[];
    expect(jobs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(jobs.map((job) => job.engine))).toEqual(new Set(['b']));
    const graphql = await gql<{ jobs: Array<{ engine: string }> }>(running.url, '{ jobs(engine: "a", limit: 500) { engine } }', {}, running.auth);
    expect(graphql.data?.jobs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(graphql.data?.jobs.map((job) => job.engine))).toEqual(new Set(['a']));
  });
});

/** Whether the engine has the image: `docker image inspect` exits non-zero when it does not. */
async function imageOn(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch {
    return false;
  }
}
