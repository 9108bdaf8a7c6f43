import request from 'supertest';
import { startTwoTeamApp, type RunningApp } from '../support/app';
import { removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, gql, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { readSse, tarContext, waitForJob, type JobEventJson, type JobJson } from '../support/jobs';

describe('jobs belong to their team', () => {
  const ns = uniqueNamespace('e2e-teams');
  let running: RunningApp;
  let jobId: string;

  beforeAll(async () => {
    running = await startTwoTeamApp(ns);
    const accepted = await api(running, running.tokens['builder-a'])
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo team-a-secret-output`, tags: [`${ns}/team-a/app:1`], noCache: true })
      .expect(202);
    jobId = accepted.body.id;
    await waitForJob(running.url, running.tokens['builder-a'] as string, jobId);
  });
  afterAll(async () => {
    removeImagesUnder(ns);
    await running.close();
  });

  it('shows a job to its own team (viewers included) and to admins', async () => {
    for (const name of ['builder-a', 'viewer-a', 'admin']) {
      const job = await api(running, running.tokens[name]).get(`/v1/jobs/${jobId}`).expect(200);
      expect(job.body).toMatchObject({ id: jobId, team: 'team-a', state: 'SUCCEEDED' });
      const { events } = await readSse(running.url, running.tokens[name] as string, jobId);
      // `#<step> team-a-secret-output` on BuildKit.
      expect(events.some((e) => /^(#\d+ )?team-a-secret-output$/.test(e.message ?? ''))).toBe(true);
    }
    const listed = await api(running, running.tokens['viewer-a']).get('/v1/jobs').expect(200);
    expect(listed.body.map((j: JobJson) => j.id)).toContain(jobId);
  });

  it("answers another team as if the job did not exist: REST, SSE, GraphQL and graphql-ws", async () => {
    const other = running.tokens['builder-b'] as string;
    expect((await api(running, other).get(`/v1/jobs/${jobId}`).expect(404)).body.code).toBe('JOB_NOT_FOUND');
    await api(running, other).get(`/v1/jobs/${jobId}/events`).expect(404);
    await api(running, other).delete(`/v1/jobs/${jobId}`).expect(404);
    const listed = await api(running, other).get('/v1/jobs').expect(200);
    expect(listed.body.map((j: JobJson) => j.id)).not.toContain(jobId);

    const viaHttp = await gql<{ job: JobJson | null }>(running.url, 'query($id: ID!) { job(id: $id) { id } }', { id: jobId }, { authorization: `Bearer ${other}` });
    expect(viaHttp.data?.job).toBeNull();

    const client = wsClient(running.wsUrl, { authorization: `Bearer ${other}` });
    try {
      await expect(
        collect<JobEventJson>(client, 'subscription($id: ID!) { jobEvents(jobId: $id) { sequence message } }', { id: jobId }, () => false, 10_000),
      ).rejects.toThrow(/JOB_NOT_FOUND|no job/);
    } finally {
      await client.dispose();
    }
  });

  it("never answers one team's Idempotency-Key with another team's job", async () => {
    const key = `shared-key-${ns}`;
    const submit = (name: string, team: string) =>
      api(running, running.tokens[name])
        .post('/v1/builds')
        .set('idempotency-key', key)
        .send({ dockerfile: `FROM ${testEnv.fixture}\nLABEL by=${team}`, tags: [`${ns}/${team}/idem:1`] })
        .expect(202);
    const a = await submit('builder-a', 'team-a');
    const b = await submit('builder-b', 'team-b');
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.team).toBe('team-b');
    expect((await submit('builder-a', 'team-a')).body.id).toBe(a.body.id);
    await waitForJob(running.url, running.token, a.body.id);
    await waitForJob(running.url, running.token, b.body.id);
  });

  it('lets a viewer read jobs but not start one', async () => {
    const refused = await api(running, running.tokens['viewer-a'])
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}`, tags: [`${ns}/team-a/app:2`] })
      .expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
  });

  it('refuses a build tag outside the team\'s namespaces before reading the context', async () => {
    const context = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}` });
    const refused = await request(running.url)
      .post(`/v1/builds?t=${encodeURIComponent(`${ns}/team-b/app:1`)}`)
      .set('authorization', `Bearer ${running.tokens['builder-a']}`)
      .set('content-type', 'application/x-tar')
      .send(context)
      .expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
  });

  it('builds over GraphQL from a context uploaded first over REST', async () => {
    const context = await tarContext({ 'build/Dockerfile': `FROM ${testEnv.fixture}\nRUN echo uploaded-first` });
    const uploaded = await api(running, running.tokens['builder-a'])
      .post('/v1/builds/contexts')
      .set('content-type', 'application/x-tar')
      .send(context)
      .expect(201);
    expect(uploaded.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), size: context.length });
    const built = await gql<{ buildImage: JobJson }>(
      running.url,
      'mutation($input: BuildImageInput!) { buildImage(input: $input) { id state } }',
      { input: { contextUploadId: uploaded.body.id, dockerfilePath: 'build/Dockerfile', tags: [`${ns}/team-a/uploaded:1`] } },
      { authorization: `Bearer ${running.tokens['builder-a']}` },
    );
    expect(built.errors).toBeUndefined();
    const job = await waitForJob(running.url, running.tokens['builder-a'] as string, built.data?.buildImage.id as string);
    expect(job.state).toBe('SUCCEEDED');
    // The context is consumed by its build.
    const again = await gql(
      running.url,
      'mutation($input: BuildImageInput!) { buildImage(input: $input) { id } }',
      { input: { contextUploadId: uploaded.body.id, tags: [`${ns}/team-a/uploaded:2`] } },
      { authorization: `Bearer ${running.tokens['builder-a']}` },
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('UPLOAD_NOT_FOUND');
  });
});
