import { RegistryClient } from '@drydock/docker';
import { existsSync, readdirSync } from 'node:fs';
import { startApp, type RunningApp } from '../support/app';
import { docker, dockerBuild, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { SEED_DOCKERFILE } from '../support/seed';
import { collect, eventually, gql, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { expectGapless, JOB_EVENT_FIELDS, readSse, tarContext, waitForJob, type JobEventJson, type JobJson } from '../support/jobs';


describe('pull, push and build as jobs, with live and replayable progress', () => {
  let running: RunningApp;
  const ns = uniqueNamespace('e2e-jobs');
  const repo = `${testEnv.registry}/${ns}/sinatra`;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    removeImagesUnder(ns);
    await running.close();
  });

  const submitBuild = async (query: string, files: Record<string, string>) => {
    const context = await tarContext(files);
    const response = await api(running).post(`/v1/builds?${query}`).set('content-type', 'application/x-tar').send(context);
    return response;
  };

  it('builds the seed\'s image from a tar context with two -t and -f, streaming steps over graphql-ws and SSE, then runs it', async () => {
    const context = {
      'Dockerfile': 'FROM scratch\nBROKEN',
      'docker/sinatra.Dockerfile': SEED_DOCKERFILE(testEnv.fixture),
    };
    // The legacy builder's own `Step i/N` steps; buildkit.e2e.ts builds the same on BuildKit.
    const query = `t=${encodeURIComponent(`${repo}:v2`)}&t=${encodeURIComponent(`${repo}:devel`)}&dockerfile=docker/sinatra.Dockerfile&builder=legacy`;
    const accepted = await submitBuild(query, context);
    expect(accepted.status).toBe(202);
    const job = accepted.body as JobJson;
    expect(accepted.headers['location']).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ type: 'BUILD', state: 'QUEUED' });

    const client = wsClient(running.wsUrl, running.auth);
    try {
      const [live, sse] = await Promise.all([
        collect<JobEventJson>(client, `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`, { id: job.id }, () => false, 60_000),
        readSse(running.url, running.token, job.id),
      ]);
      for (const events of [live, sse.events]) {
        expectGapless(events);
        expect(events.at(-1)?.state).toBe('SUCCEEDED');
        const steps = events.filter((e) => e.step).map((e) => e.step);
        expect(steps).toEqual([
          { index: 1, count: 5, instruction: `FROM ${testEnv.fixture}` },
          { index: 2, count: 5, instruction: 'MAINTAINER Kate Smith <ksmith@example.com>' },
          { index: 3, count: 5, instruction: 'RUN echo "installing ruby" && mkdir -p /app' },
          { index: 4, count: 5, instruction: 'RUN echo "gem install sinatra" > /app/Gemfile' },
          { index: 5, count: 5, instruction: 'CMD ["cat", "/app/Gemfile"]' },
        ]);
        expect(events.some((e) => e.kind === 'LOG' && e.message === 'installing ruby')).toBe(true);
        const result = events.find((e) => e.kind === 'RESULT')?.result;
        expect(result?.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(result?.tags).toEqual([`${repo}:v2`, `${repo}:devel`]);
      }
      expect(sse.contentType).toContain('text/event-stream');
      expect(sse.ids).toEqual(sse.events.map((e) => String(e.sequence)));
      expect(sse.names).toEqual(sse.events.map((e) => e.kind.toLowerCase()));
    } finally {
      await client.dispose();
    }

    const done = await waitForJob(running.url, running.token, job.id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', progress: 1 });
    const listed = await api(running).get('/v1/images').query({ reference: repo }).expect(200);
    expect(listed.body[0].repoTags).toEqual(expect.arrayContaining([{ repository: repo, tag: 'v2' }, { repository: repo, tag: 'devel' }]));
    // ...and the image runs: its CMD prints what the build wrote.
    expect(docker('run', '--rm', '--network', 'none', `${repo}:v2`)).toBe('gem install sinatra');
  });

  it('builds from a multipart form: options as fields, the tar context as the last part', async () => {
    const context = await tarContext({ 'other.Dockerfile': `FROM ${testEnv.fixture}\nRUN echo from-a-form` });
    const form = new FormData();
    form.append('t', `${repo}:form-1`);
    form.append('t', `${repo}:form-2`);
    form.append('dockerfile', 'other.Dockerfile');
    form.append('context', new Blob([context], { type: 'application/x-tar' }), 'context.tar');
    const response = await fetch(`${running.url}/v1/builds`, { method: 'POST', headers: running.auth, body: form });
    expect(response.status).toBe(202);
    const job = await waitForJob(running.url, running.token, ((await response.json()) as JobJson).id);
    expect(job).toMatchObject({ state: 'SUCCEEDED', result: { tags: [`${repo}:form-1`, `${repo}:form-2`] } });

    const misnamed = new FormData();
    misnamed.append('t', `${repo}:form-3`);
    misnamed.append('upload', new Blob([context]), 'context.tar');
    const refused = await fetch(`${running.url}/v1/builds`, { method: 'POST', headers: running.auth, body: misnamed });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/named "context"/);

    const fieldsOnly = new FormData();
    fieldsOnly.append('t', `${repo}:form-4`);
    const empty = await fetch(`${running.url}/v1/builds`, { method: 'POST', headers: running.auth, body: fieldsOnly });
    expect(empty.status).toBe(400);
  });

  it('ends a build whose RUN fails FAILED with BUILD_FAILED, the engine\'s message and the step\'s output', async () => {
    // The legacy builder's message; buildkit.e2e.ts fails a RUN on BuildKit.
    const accepted = await submitBuild(`t=${encodeURIComponent(`${repo}:broken`)}&builder=legacy`, {
      Dockerfile: `FROM ${testEnv.fixture}\nRUN echo "about to fail" && exit 3`,
    });
    expect(accepted.status).toBe(202);
    const job = await waitForJob(running.url, running.token, accepted.body.id);
    expect(job.state).toBe('FAILED');
    expect(job.error).toEqual({ code: 'BUILD_FAILED', message: expect.stringContaining('returned a non-zero code: 3') });
    const { events } = await readSse(running.url, running.token, job.id);
    expectGapless(events);
    expect(events.some((e) => e.kind === 'LOG' && e.message === 'about to fail')).toBe(true);
    expect(events.find((e) => e.kind === 'ERROR')?.error?.code).toBe('BUILD_FAILED');
  });

  it('replays every event from sequence 1 to a subscriber that joins after the job ended, and resumes SSE after Last-Event-ID', async () => {
    const accepted = await api(running)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo one && echo two`, tags: [`${repo}:late`] })
      .expect(202);
    const job = await waitForJob(running.url, running.token, accepted.body.id);
    expect(job.state).toBe('SUCCEEDED');

    const client = wsClient(running.wsUrl, running.auth);
    try {
      const late = await collect<JobEventJson>(client, `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`, { id: job.id }, () => false);
      expectGapless(late);
      const fromThree = await collect<JobEventJson>(
        client,
        `subscription($id: ID!) { jobEvents(jobId: $id, fromSequence: 3) { sequence } }`,
        { id: job.id },
        () => false,
      );
      expect(fromThree.map((e) => e.sequence)).toEqual(late.slice(2).map((e) => e.sequence));

      const resumed = await readSse(running.url, running.token, job.id, { 'last-event-id': '4' });
      expect(resumed.events.map((e) => e.sequence)).toEqual(late.slice(4).map((e) => e.sequence));
    } finally {
      await client.dispose();
    }
  });

  it('pulls by tag and by digest from the local registry, with per-layer events', async () => {
    // An image only the registry has: built, pushed, then removed here.
    const source = `${testEnv.registry}/${ns}/pulled:1`;
    dockerBuild(source, `FROM ${testEnv.fixture}\nRUN echo ${ns} > /marker`);
    docker('push', source);
    const digest = new RegistryClient(testEnv.registry);
    const manifest = await digest.manifestDigest(`${ns}/pulled`, '1');
    docker('rmi', source);

    const byTag = await api(running).post('/v1/images/pull').send({ reference: source }).expect(202);
    const tagged = await waitForJob(running.url, running.token, byTag.body.id);
    expect(tagged).toMatchObject({ state: 'SUCCEEDED', result: { digest: manifest, tags: [source] } });
    const { events } = await readSse(running.url, running.token, tagged.id);
    const statuses = events.filter((e) => e.layer).map((e) => e.layer?.status);
    expect(statuses).toEqual(expect.arrayContaining(['Pulling fs layer', 'Download complete', 'Pull complete']));
    expect(events.filter((e) => e.kind === 'PROGRESS' && e.progress !== null).at(-1)?.progress).toBe(1);

    docker('rmi', source);
    const reference = `${testEnv.registry}/${ns}/pulled@${manifest}`;
    const byDigest = await api(running).post('/v1/images/pull').send({ reference }).expect(202);
    const pinned = await waitForJob(running.url, running.token, byDigest.body.id);
    expect(pinned).toMatchObject({ state: 'SUCCEEDED', result: { digest: manifest } });
    const inspected = await api(running).get(`/v1/images/${encodeURIComponent(reference)}`).expect(200);
    expect(inspected.body.repoDigests).toContainEqual({ repository: `${testEnv.registry}/${ns}/pulled`, digest: manifest });
  }, 120_000);

  it('shares one job between two identical pulls in flight, and answers a repeated Idempotency-Key with the same job', async () => {
    // Big enough that the first pull is still in flight when the second request arrives.
    const reference = `${testEnv.registry}/${ns}/big:1`;
    dockerBuild(reference, `FROM ${testEnv.fixture}\nRUN head -c 40000000 /dev/urandom > /blob`);
    docker('push', reference);
    docker('rmi', reference);
    const [a, b] = await Promise.all([
      api(running).post('/v1/images/pull').send({ reference }).expect(202),
      api(running).post('/v1/images/pull').send({ reference }).expect(202),
    ]);
    expect(b.body.id).toBe(a.body.id);
    expect((await waitForJob(running.url, running.token, a.body.id)).state).toBe('SUCCEEDED');
  });

  it('answers a repeated Idempotency-Key with the same build, and keeps no context for the retry', async () => {
    const dir = running.config.contextsDir;
    const contexts = () => (existsSync(dir) ? readdirSync(dir) : []);
    const before = new Set(contexts());
    const key = `e2e-${ns}-build`;
    const body = { dockerfile: `FROM ${testEnv.fixture}\nLABEL idempotent=yes`, tags: [`${repo}:idem`] };
    const first = await api(running).post('/v1/builds').set('idempotency-key', key).send(body).expect(202);
    const again = await api(running).post('/v1/builds').set('idempotency-key', key).send(body).expect(202);
    expect(again.body.id).toBe(first.body.id);
    expect(first.headers['location']).toBe(`/v1/jobs/${first.body.id}`);
    expect((await waitForJob(running.url, running.token, first.body.id)).state).toBe('SUCCEEDED');
    // The job removes its own context when it ends; the retry's must not be left behind.
    expect(contexts().filter((name) => !before.has(name))).toEqual([]);
  });

  it('refuses an Idempotency-Key that is not 1 to 200 visible characters on every endpoint that queues a job', async () => {
    const bad = 'k'.repeat(201);
    for (const [path, body] of [
      ['/v1/images/pull', { reference: `${testEnv.registry}/${ns}/never:1` }],
      [`/v1/images/${encodeURIComponent(testEnv.fixture)}/push`, {}],
      ['/v1/builds', { dockerfile: `FROM ${testEnv.fixture}`, tags: [`${repo}:never`] }],
      ['/v1/containers', { image: testEnv.fixture, cmd: ['true'] }],
      [`/v1/images/${encodeURIComponent(testEnv.fixture)}/export`, {}],
    ] as const) {
      const answer = await api(running).post(path).set('idempotency-key', bad).send(body);
      expect({ path, status: answer.status, code: answer.body.code }).toEqual({ path, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('pushes all tags of a repository to a registry and the registry reports the same digest', async () => {
    const repository = `${testEnv.registry}/${ns}/pushed`;
    for (const tag of ['1', '2', 'latest']) docker('tag', testEnv.fixture, `${repository}:${tag}`);
    const accepted = await api(running).post(`/v1/images/${encodeURIComponent(repository)}/push`).send({ allTags: true }).expect(202);
    const job = await waitForJob(running.url, running.token, accepted.body.id);
    expect(job).toMatchObject({ state: 'SUCCEEDED', result: { tags: [`${repository}:1`, `${repository}:2`, `${repository}:latest`] } });
    const registry = new RegistryClient(testEnv.registry);
    expect((await registry.tags(`${ns}/pushed`)).sort()).toEqual(['1', '2', 'latest']);
    expect(job.result?.digest).toBe(await registry.manifestDigest(`${ns}/pushed`, 'latest'));
    const { events } = await readSse(running.url, running.token, job.id);
    expect(events.some((e) => e.layer && ['Pushed', 'Layer already exists'].includes(e.layer.status))).toBe(true);
  });

  it('pushes all tags of a repository to a registry that requires a login, with the credential the service holds', async () => {
    const repository = `${testEnv.authRegistry}/${ns}/team-app`;
    for (const tag of ['v1', 'v2']) docker('tag', testEnv.fixture, `${repository}:${tag}`);
    await api(running)
      .put(`/v1/registries/${encodeURIComponent(testEnv.authRegistry)}/credential`)
      .send({ username: testEnv.authUser, password: testEnv.authPassword })
      .expect((res) => expect([200, 201, 204]).toContain(res.status));
    try {
      const accepted = await api(running).post(`/v1/images/${encodeURIComponent(repository)}/push`).send({ allTags: true }).expect(202);
      // The job record never carries the password, only the registry it needs.
      expect(JSON.stringify(accepted.body)).not.toContain(testEnv.authPassword);
      const job = await waitForJob(running.url, running.token, accepted.body.id);
      expect(job).toMatchObject({ state: 'SUCCEEDED', result: { tags: [`${repository}:v1`, `${repository}:v2`] } });
      const registry = new RegistryClient(testEnv.authRegistry, { username: testEnv.authUser, password: testEnv.authPassword });
      expect((await registry.tags(`${ns}/team-app`)).sort()).toEqual(['v1', 'v2']);
      expect(job.result?.digest).toBe(await registry.manifestDigest(`${ns}/team-app`, 'v2'));
      const { events } = await readSse(running.url, running.token, job.id);
      expect(JSON.stringify(events)).not.toContain(testEnv.authPassword);

      // A build FROM that private image: the engine pulls the base with the stored login (X-Registry-Config).
      docker('rmi', `${repository}:v1`, `${repository}:v2`);
      const build = await api(running)
        .post('/v1/builds')
        .send({ dockerfile: `FROM ${repository}:v1\nRUN echo based-on-private`, tags: [`${repo}:from-private`], pull: true })
        .expect(202);
      const built = await waitForJob(running.url, running.token, build.body.id);
      expect(built.state).toBe('SUCCEEDED');
    } finally {
      await api(running).delete(`/v1/registries/${encodeURIComponent(testEnv.authRegistry)}/credential`).expect(204);
    }
  });

  it('ends a push without a stored login FAILED with REGISTRY_UNAUTHORIZED and the registry\'s message', async () => {
    const repository = `${testEnv.authRegistry}/${ns}/private`;
    docker('tag', testEnv.fixture, `${repository}:1`);
    const accepted = await api(running).post(`/v1/images/${encodeURIComponent(`${repository}:1`)}/push`).send({}).expect(202);
    const job = await waitForJob(running.url, running.token, accepted.body.id);
    expect(job.state).toBe('FAILED');
    expect(job.error?.code).toBe('REGISTRY_UNAUTHORIZED');
    expect(job.error?.message).toMatch(/auth|unauthorized/i);
  });

  it('cancels a running build at the engine: CANCELLED within 5 s and no build container left behind', async () => {
    const accepted = await api(running)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo sleeping && sleep 60`, tags: [`${repo}:sleepy`], noCache: true, builder: 'LEGACY' })
      .expect(202);
    const id = accepted.body.id as string;
    // Wait until the RUN step's container is really running.
    await eventually(async () => {
      const { body } = await api(running).get(`/v1/jobs/${id}`);
      return body.state === 'RUNNING' && docker('ps', '-q', '--filter', 'status=running').length > 0 ? true : undefined;
    }, 30_000, 'the sleep step to start');
    const before = Date.now();
    const cancelled = await api(running).delete(`/v1/jobs/${id}`).expect(200);
    expect(cancelled.body.state).toBe('CANCELLED');
    const job = await waitForJob(running.url, running.token, id, 5_000);
    expect(job.state).toBe('CANCELLED');
    expect(Date.now() - before).toBeLessThan(5_000);
    const { events } = await readSse(running.url, running.token, id);
    expect(events.at(-1)).toMatchObject({ kind: 'STATE', state: 'CANCELLED' });
    // The legacy builder removes the step's container once it notices the cancel.
    await eventually(async () => (docker('ps', '-aq', '--filter', `ancestor=${testEnv.fixture}`, '--filter', 'status=running') === '' ? true : undefined), 15_000, 'the build container to go');
  });

  it('cancels a queued job before it starts', async () => {
    // GraphQL this time: the same service answers.
    const built = await gql<{ buildImage: JobJson }>(
      running.url,
      'mutation($input: BuildImageInput!) { buildImage(input: $input) { id state } }',
      { input: { dockerfile: `FROM ${testEnv.fixture}\nRUN sleep 30`, tags: [`${repo}:queued`], noCache: true } },
      running.auth,
    );
    expect(built.errors).toBeUndefined();
    const id = built.data?.buildImage.id as string;
    const cancelled = await gql<{ cancelJob: JobJson }>(running.url, 'mutation($id: ID!) { cancelJob(id: $id) { id state } }', { id }, running.auth);
    expect(cancelled.data?.cancelJob.state).toBe('CANCELLED');
    const { events } = await readSse(running.url, running.token, id);
    expect(events.at(-1)).toMatchObject({ state: 'CANCELLED' });
  });

  it('fails a pull from Docker Hub quickly with REGISTRY_UNREACHABLE', async () => {
    const accepted = await api(running).post('/v1/images/pull').send({ reference: 'centos' }).expect(202);
    expect(accepted.body.request).toEqual({ reference: 'centos:latest' });
    const job = await waitForJob(running.url, running.token, accepted.body.id, 30_000);
    expect(job).toMatchObject({ state: 'FAILED', error: { code: 'REGISTRY_UNREACHABLE' } });
  });

  it.each([
    ['no FROM', { dockerfile: '# nothing\nRUN true', tags: ['x/y:1'] }, 'DOCKERFILE_INVALID', /RUN before the first FROM|no FROM/],
    ['an unknown instruction', { dockerfile: 'FROM busybox\nFROBNICATE', tags: ['x/y:1'] }, 'DOCKERFILE_INVALID', /unknown instruction FROBNICATE/],
    ['128 layers', { dockerfile: ['FROM busybox', ...Array.from({ length: 128 }, (_, i) => `RUN echo ${i}`)].join('\n'), tags: ['x/y:1'] }, 'DOCKERFILE_INVALID', /128 layers/],
    ['an invalid tag', { dockerfile: 'FROM busybox', tags: ['Upper/Case:1'] }, 'INVALID_REFERENCE', /lowercase/],
    ['a digest as tag', { dockerfile: 'FROM busybox', tags: [`x/y@sha256:${'a'.repeat(64)}`] }, 'INVALID_REFERENCE', /digest/],
    ['no tags', { dockerfile: 'FROM busybox', tags: [] }, 'VALIDATION_FAILED', /tags/],
    ['a file outside the context', { dockerfile: 'FROM busybox', tags: ['x/y:1'], files: { '../etc/passwd': 'eA==' } }, 'VALIDATION_FAILED', /relative path/],
    ['an unknown field', { dockerfile: 'FROM busybox', tags: ['x/y:1'], privileged: true }, 'VALIDATION_FAILED', /privileged/],
  ])('refuses a build with %s before queueing anything', async (_name, body, code, detail) => {
    const before = await api(running).get('/v1/jobs').query({ type: 'BUILD', limit: 500 }).expect(200);
    const response = await api(running).post('/v1/builds').send(body);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.code).toBe(code);
    expect(response.body.detail).toMatch(detail);
    const after = await api(running).get('/v1/jobs').query({ type: 'BUILD', limit: 500 }).expect(200);
    expect(after.body.length).toBe(before.body.length);
  });

  it('answers 413 to a build context over the cap, 404 to an unknown job and 400 to a bad Last-Event-ID', async () => {
    const small = await startApp({ DRYDOCK_BUILD_CONTEXT_MAX_BYTES: '4096' });
    try {
      const big = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}`, blob: Buffer.alloc(64 * 1024, 1).toString() });
      const response = await api(small).post('/v1/builds?t=x/y:1').set('content-type', 'application/x-tar').send(big);
      expect(response.status).toBe(413);
      expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
    } finally {
      await small.close();
    }
    const missing = await api(running).get('/v1/jobs/00000000-0000-0000-0000-000000000000').expect(404);
    expect(missing.body.code).toBe('JOB_NOT_FOUND');
    await api(running).get('/v1/jobs/00000000-0000-0000-0000-000000000000/events').expect(404);
    const jobs = await api(running).get('/v1/jobs').query({ limit: 1 }).expect(200);
    const bad = await api(running).get(`/v1/jobs/${jobs.body[0].id}/events`).set('last-event-id', 'abc').expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });
});
