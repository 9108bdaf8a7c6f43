import { execFileSync } from 'node:child_process';
import { type RunningApp, startApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { type JobEventJson, type JobJson, expectGapless, getJob, jobEventsInto, readSse, readSseInto, waitForJob } from '../support/jobs';
import { OwnRedis } from '../support/redis-server';

/*
 * Redis killed under running and queued jobs, with its own redis-server
 * (AOF on) so no other suite feels it. The builds are slow on purpose (a
 * second between their lines), so the outage falls in the middle of them.
 */

const BUILDS = 20;
const OUTAGE_MS = 5_000;

const dockerfile = (i: number): string =>
  [`FROM ${testEnv.fixture}`, `RUN echo fault-${i}-a && sleep 1 && echo fault-${i}-b`, `RUN echo fault-${i}-c && sleep 1 && echo fault-${i}-d`, `LABEL fault=${i}`].join('\n');

async function post(app: RunningApp, path: string, body: unknown): Promise<JobJson> {
  const response = await fetch(`${app.url}${path}`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 202) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as JobJson;
}

/** Ids of the app's jobs in a state, through the API. */
async function jobsIn(app: RunningApp, state: string): Promise<string[]> {
  const response = await fetch(`${app.url}/v1/jobs?state=${state}&limit=100`, { headers: app.auth });
  if (!response.ok) throw new Error(`GET /v1/jobs: ${response.status}`);
  return ((await response.json()) as JobJson[]).map((job) => job.id);
}

/** The Step lines the engine itself prints for a Dockerfile, from the docker CLI's own build. */
function engineSteps(text: string): string[] {
  const output = execFileSync('/usr/bin/docker', ['build', '--no-cache', '--rm', '-'], { input: text, encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  const id = /Successfully built ([0-9a-f]+)/.exec(output)?.[1];
  if (id) docker('rmi', id);
  return output.split('\n').filter((line) => line.startsWith('Step '));
}

describe('Redis killed under running and queued jobs', () => {
  let redis: OwnRedis;
  const namespace = uniqueNamespace('faults');

  beforeAll(async () => {
    redis = await OwnRedis.start();
  });

  afterAll(async () => {
    await redis?.stop();
    removeImagesUnder(namespace);
  });

  it(`loses nothing in a ${OUTAGE_MS / 1000} s kill -9 during ${BUILDS} running and queued builds: every job ends with the engine's outcome, every stream is gapless and holds every engine line, and subscribers resuming over SSE with Last-Event-ID and over graphql-ws with fromSequence see no gap and no duplicate`, async () => {
    const app = await startApp({ REDIS_URL: redis.url });
    try {
      const jobs: JobJson[] = [];
      for (let i = 0; i < BUILDS; i++) {
        jobs.push(await post(app, '/v1/builds', { dockerfile: dockerfile(i), tags: [`${namespace}/fault:${i}`], builder: 'LEGACY' }));
      }
      const watched = jobs[0];
      if (!watched) throw new Error('no job');
      // A subscriber on the first build, cut when Redis goes, resuming after it returns.
      const before = new AbortController();
      const firstPart: JobEventJson[] = [];
      const firstRead = readSseInto(app.url, app.token, watched.id, {}, firstPart, before.signal);
      // The same over graphql-ws: its socket dropped with Redis, it resumes with fromSequence.
      const overWs: JobEventJson[] = [];
      const firstWs = jobEventsInto(app.url, app.token, watched.id, overWs, before.signal);
      await eventually(
        async () => ((await jobsIn(app, 'RUNNING')).length >= 1 && firstPart.length >= 2 && overWs.length >= 2 ? true : undefined),
        60_000,
        'a build to be running',
      );

      await redis.kill9();
      before.abort();
      await Promise.all([firstRead, firstWs]);
      const down = await fetch(`${app.url}/v1/jobs/${watched.id}`, { headers: app.auth });
      const problem = (await down.json()) as { code: string; detail: string };
      expect(down.status).toBe(503);
      expect(problem.code).toBe('REDIS_UNAVAILABLE');
      expect(problem.detail).not.toMatch(/max retries|ECONNREFUSED|Connection is closed/i);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)); // the outage itself, not a wait for anything
      await redis.restart();

      const lastSeen = firstPart[firstPart.length - 1]?.sequence ?? 0;
      const cutAt = overWs.length;
      const [resumed] = await Promise.all([
        readSse(app.url, app.token, watched.id, { 'last-event-id': String(lastSeen) }, 120_000),
        jobEventsInto(app.url, app.token, watched.id, overWs),
      ]);
      expectGapless([...firstPart, ...resumed.events]);
      expect(overWs.length).toBeGreaterThan(cutAt);
      expectGapless(overWs);
      expect(overWs.map((event) => event.sequence)).toEqual([...firstPart, ...resumed.events].map((event) => event.sequence));

      for (const [i, job] of jobs.entries()) {
        const ended = await waitForJob(app.url, app.token, job.id, 120_000).catch(async (error: unknown) => {
          const states = await Promise.all(jobs.map(async (j) => (await getJob(app.url, app.token, j.id)).state));
          throw new Error(`build ${i} did not end; states: ${states.join(' ')}`, { cause: error });
        });
        expect({ i, state: ended.state, error: ended.error }).toEqual({ i, state: 'SUCCEEDED', error: null });
        const { events } = await readSse(app.url, app.token, job.id);
        expectGapless(events);
        const messages = events.map((event) => event.message ?? '');
        for (const line of ['a', 'b', 'c', 'd']) expect(messages).toContain(`fault-${i}-${line}`);
        expect(events.filter((event) => event.step).map((event) => event.message)).toEqual(expectedSteps(i));
        expect(docker('image', 'inspect', '--format', '{{index .Config.Labels "fault"}}', `${namespace}/fault:${i}`)).toBe(String(i));
      }
      expect(await jobsIn(app, 'RUNNING')).toEqual([]);
    } finally {
      await app.close();
    }
  }, 240_000);

  /** The engine's own Step lines for build i: the CLI's build of the first Dockerfile, with the index swapped. */
  let steps0: string[] | undefined;
  function expectedSteps(i: number): string[] {
    steps0 ??= engineSteps(dockerfile(0));
    return steps0.map((line) => line.replaceAll('fault-0-', `fault-${i}-`).replace('fault=0', `fault=${i}`));
  }

  it('ends the jobs REDIS_UNAVAILABLE when Redis stays away past the grace period, stops their containers, and leaves nothing RUNNING once it is back', async () => {
    const app = await startApp({ REDIS_URL: redis.url, DRYDOCK_REDIS_GRACE_SECONDS: '3' });
    try {
      const cmd = ['sh', '-c', 'i=0; while [ $i -lt 600 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done'];
      const runs = [await post(app, '/v1/containers', { image: testEnv.fixture, cmd }), await post(app, '/v1/containers', { image: testEnv.fixture, cmd })];
      await eventually(async () => ((await jobsIn(app, 'RUNNING')).length === runs.length ? true : undefined), 60_000, 'both runs to be running');

      await redis.kill9();
      await new Promise((resolve) => setTimeout(resolve, 7_000)); // the outage: longer than the 3 s grace
      await redis.restart();

      for (const run of runs) {
        const ended = await waitForJob(app.url, app.token, run.id, 60_000);
        expect(ended.state).toBe('FAILED');
        expect(ended.error?.code).toBe('REDIS_UNAVAILABLE');
        expect(ended.error?.message).toBe('Redis was unreachable for more than 3 s; the job was stopped');
        const { events } = await readSse(app.url, app.token, run.id);
        expectGapless(events);
        const containerId = events.find((event) => event.result?.containerId)?.result?.containerId ?? (await containerOf(app, run.id));
        // Stopped at the engine, long before its 60 s of output were done.
        expect(docker('inspect', '--format', '{{.State.Running}}', containerId)).toBe('false');
        expect(events.some((event) => event.message === 'line-599')).toBe(false);
      }
      expect(await jobsIn(app, 'RUNNING')).toEqual([]);
      const job = await getJob(app.url, app.token, runs[0]?.id ?? '');
      expect(JSON.stringify(job)).not.toMatch(/max retries|ECONNREFUSED|Connection is closed/i);
    } finally {
      await app.close();
    }
  });
});

/** The container of a RUN job, by the label Drydock puts on it. */
async function containerOf(_app: RunningApp, jobId: string): Promise<string> {
  const id = docker('ps', '-aq', '--no-trunc', '--filter', `label=io.drydock.job=${jobId}`).split('\n')[0];
  if (!id) throw new Error(`no container for job ${jobId}`);
  return id;
}
