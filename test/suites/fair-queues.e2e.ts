import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, gql } from '../support/graphql';
import { api } from '../support/http';
import { getJob, waitForJob, type JobJson } from '../support/jobs';

type WaitingJob = JobJson & { position: number | null };

const WAITING_LIMIT = 100;

describe('fair queues: per-team limits, positions and time limits', () => {
  const ns = uniqueNamespace('e2e-fair');
  const baseImage = `${testEnv.registry}/${ns}/team-b/base:1`;
  let running: RunningApp;
  let builderA: string;
  let builderB: string;
  const teamAJobs: string[] = [];

  /** A build that holds its team's only BUILD slot for as long as the suite needs it. */
  const slowBuild = (i: number) => ({ dockerfile: `FROM ${testEnv.fixture}\nRUN sleep 120`, tags: [`${ns}/team-a/slow:${i}`] });

  async function queueTeamABuild(i: number): Promise<string> {
    const accepted = await api(running, builderA).post('/v1/builds').send(slowBuild(i)).expect(202);
    return accepted.body.id as string;
  }

  /** Polls until the job has left QUEUED; the deadline is the test's claim, not a sleep. */
  function started(token: string, id: string, deadlineMs: number): Promise<JobJson> {
    return eventually(async () => {
      const job = await getJob(running.url, token, id);
      return job.state === 'QUEUED' ? undefined : job;
    }, deadlineMs, `job ${id} to start`);
  }

  beforeAll(async () => {
    running = await startApp(
      // One BUILD at a time per team, so team-a's builds pile up in the queue.
      { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0', DRYDOCK_TEAM_MAX_RUNNING: 'BUILD=1' },
      {
        tokens: [
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${ns}/team-a/**`] },
          { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: [`${ns}/team-b/**`, `${testEnv.registry}/${ns}/team-b/**`] },
        ],
      },
    );
    builderA = running.tokens['builder-a'] as string;
    builderB = running.tokens['builder-b'] as string;
    docker('pull', testEnv.fixture);
    docker('tag', testEnv.fixture, baseImage);
    docker('push', baseImage);
    docker('rmi', baseImage);
  });

  afterAll(async () => {
    await Promise.all(teamAJobs.map((id) => api(running, builderA).delete(`/v1/jobs/${id}`)));
    await running.close();
    removeImagesUnder(ns);
    await dropRedisKeys(running.config.keyPrefix);
  });

  it("starts team-b's pull and build within 5 s while team-a has 100 builds queued", async () => {
    for (let batch = 0; batch < WAITING_LIMIT; batch += 10) {
      teamAJobs.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => queueTeamABuild(batch + i)))));
    }
    const pull = await api(running, builderB).post('/v1/images/pull').send({ reference: baseImage }).expect(202);
    const build = await api(running, builderB)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN true`, tags: [`${ns}/team-b/quick:1`] })
      .expect(202);
    await started(builderB, pull.body.id, 5_000);
    await started(builderB, build.body.id, 5_000);
    expect((await waitForJob(running.url, builderB, pull.body.id)).state).toBe('SUCCEEDED');
    expect((await waitForJob(running.url, builderB, build.body.id)).state).toBe('SUCCEEDED');
  });

  it("shows each waiting job its place in its team's queue, over REST and GraphQL", async () => {
    const jobs = (await Promise.all(teamAJobs.map((id) => getJob(running.url, builderA, id)))) as WaitingJob[];
    const waiting = jobs.filter((job) => job.state === 'QUEUED');
    expect(waiting.length).toBeGreaterThanOrEqual(WAITING_LIMIT - 1);
    // Queued in batches of ten at once: the places are 1..n, each once, and the last batch is behind the first.
    expect(waiting.map((job) => job.position).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(waiting.map((_, i) => i + 1));
    const runningJob = jobs.find((job) => job.state === 'RUNNING');
    expect(runningJob).toMatchObject({ position: null });
    const last = waiting[waiting.length - 1] as WaitingJob;
    const first = waiting[0] as WaitingJob;
    expect(last.position).toBeGreaterThan(first.position as number);

    const viaGraphql = await gql<{ job: { position: number | null } }>(
      running.url,
      'query($id: ID!) { job(id: $id) { position } }',
      { id: last.id },
      { authorization: `Bearer ${builderA}` },
    );
    expect(viaGraphql.data?.job.position).toBe(last.position);
  });

  it('refuses the 101st waiting job of a team with 429 QUEUE_FULL and Retry-After, and only that team', async () => {
    // One of team-a's builds is running: fill the waiting queue to exactly its limit.
    const jobs = await Promise.all(teamAJobs.map((id) => getJob(running.url, builderA, id)));
    for (let waiting = jobs.filter((job) => job.state === 'QUEUED').length; waiting < WAITING_LIMIT; waiting++) {
      teamAJobs.push(await queueTeamABuild(1000 + waiting));
    }
    const refused = await api(running, builderA).post('/v1/builds').send(slowBuild(2000)).expect(429);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.code).toBe('QUEUE_FULL');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    const viaGraphql = await gql<{ buildImage: { id: string } | null }>(
      running.url,
      'mutation($input: BuildImageInput!) { buildImage(input: $input) { id } }',
      { input: slowBuild(2001) },
      { authorization: `Bearer ${builderA}` },
    );
    expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('QUEUE_FULL');

    const other = await api(running, builderB)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN true`, tags: [`${ns}/team-b/quick:2`] })
      .expect(202);
    await waitForJob(running.url, builderB, other.body.id);
  });

  it('ends a `sleep 600` run with timeoutSeconds 3 as FAILED JOB_TIMEOUT within 5 s, its container stopped', async () => {
    const accepted = await api(running, builderB)
      .post('/v1/containers')
      .send({ image: testEnv.fixture, cmd: ['sleep', '600'], timeoutSeconds: 3 })
      .expect(202);
    expect(accepted.body.timeoutSeconds).toBe(3);
    const job = await waitForJob(running.url, builderB, accepted.body.id, 5_000);
    expect(job).toMatchObject({ state: 'FAILED', error: { code: 'JOB_TIMEOUT' } });
    const containers = docker('ps', '-a', '--filter', `label=io.drydock.job=${accepted.body.id}`, '--format', '{{.ID}} {{.State}}');
    expect(containers).not.toBe('');
    for (const line of containers.split('\n')) expect(line).not.toMatch(/running/);
  });

  it("caps a request's timeoutSeconds by its type's limit and refuses one that is not a positive whole number", async () => {
    const capped = await gql<{ runContainer: { id: string; timeoutSeconds: number } }>(
      running.url,
      'mutation($input: RunContainerInput!) { runContainer(input: $input) { id timeoutSeconds } }',
      { input: { image: testEnv.fixture, cmd: ['true'], timeoutSeconds: 7 * 24 * 3600 } },
      { authorization: `Bearer ${builderB}` },
    );
    expect(capped.data?.runContainer.timeoutSeconds).toBe(running.config.jobTimeoutSeconds.RUN);
    await waitForJob(running.url, builderB, capped.data?.runContainer.id as string);
    for (const timeoutSeconds of [0, -1, 1.5, 'soon']) {
      const refused = await api(running, builderB)
        .post('/v1/images/pull')
        .send({ reference: baseImage, timeoutSeconds })
        .expect(400);
      expect(refused.body.code).toBe('VALIDATION_FAILED');
    }
  });
});
