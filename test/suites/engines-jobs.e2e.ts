import type { Client } from 'graphql-ws';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { processFleet } from '../support/fleet';
import { eventually, wsClient } from '../support/graphql';
import { expectEveryEventDelivered, expectJobDelivered, followJob, jobStorm, type StormJob } from '../support/job-storm';
import { getJob, type JobJson } from '../support/jobs';
import type { DrydockProcess } from '../support/process';
import { SecondDockerd } from '../support/second-dockerd';

/**
 * A deployment as issue 12 scales it: two engines (the shared one as `a`, one
 * of the suite's own as `b`), two API and two worker processes, each worker
 * serving both engines, Redis their only shared state.
 */
describe('jobs over two engines, with two API and two worker processes', () => {
  const ns = uniqueNamespace('e2e-engines-jobs');
  let b: SecondDockerd;
  const fleet = processFleet('engines-jobs', () => ({
    DRYDOCK_ENGINES: JSON.stringify([
      { name: 'a', host: process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock' },
      { name: 'b', host: b.host },
    ]),
  }));
  let apis: [DrydockProcess, DrydockProcess];
  let workers: DrydockProcess[];

  const post = async (api: DrydockProcess, path: string, body: unknown): Promise<JobJson> => {
    const response = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fleet.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as JobJson;
  };

  beforeAll(async () => {
    b = await SecondDockerd.start();
    // Runs need their image where they run: the fixture on both engines.
    await b.docker('pull', testEnv.fixture);
    // Two waves: four Node start-ups at once outrun startProcess's deadline on a loaded machine.
    apis = (await Promise.all([fleet.start('api'), fleet.start('api')])) as [DrydockProcess, DrydockProcess];
    workers = await Promise.all([fleet.start('worker'), fleet.start('worker')]);
  }, 180_000);

  afterAll(async () => {
    await fleet.stop();
    removeImagesUnder(ns);
    for (const id of docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${fleet.prefix}`).split('\n').filter(Boolean)) docker('rm', '-f', id);
    await b?.destroy();
  }, 120_000);

  it('runs 60 concurrent pulls, builds and runs over both engines to their end, every SSE and graphql-ws subscriber getting every event in order, once', async () => {
    const storm = await jobStorm({
      apis: apis.map((api) => api.url),
      token: fleet.token,
      jobs: 60,
      namespace: ns,
      kinds: ['build', 'run', 'pull', 'build', 'run'],
      // The fixture is on both engines, so a run names one (unnamed it would be AMBIGUOUS_ENGINE);
      // pulls and builds are left to the router, which spreads them by load.
      engineOf: (i, kind) => (kind === 'run' ? (i % 2 ? 'b' : 'a') : undefined),
      deadlineMs: 240_000,
    });
    expectEveryEventDelivered(storm);
    const byEngine = (kind: string) => new Set(storm.jobs.filter((job) => job.kind === kind).map((job) => job.final.engine));
    expect(byEngine('run')).toEqual(new Set(['a', 'b']));
    // Twenty builds submitted at once cannot all find one engine the less busy.
    expect(byEngine('build')).toEqual(new Set(['a', 'b']));
    // Each build's image is on the engine its job names, and only there.
    for (const [i, job] of storm.jobs.entries()) {
      if (job.kind !== 'build') continue;
      const tags = async (engine: string) =>
        engine === 'a' ? docker('images', '-q', `${ns}/storm:${i}`) : (await b.docker('images', '-q', `${ns}/storm:${i}`)).trim();
      expect(await tags(job.final.engine as string)).not.toBe('');
      expect(await tags(job.final.engine === 'a' ? 'b' : 'a')).toBe('');
    }
  }, 300_000);

  it('finishes the jobs of a worker killed with SIGKILL on the other, or ends them WORKER_LOST, every subscriber seeing the end', async () => {
    // Only the first worker takes these jobs, so the one killed surely holds them; a second joins before the kill.
    workers[1]?.child.kill('SIGKILL');
    await workers[1]?.exited;
    const ids = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        post(apis[i % 2] as DrydockProcess, '/v1/containers', {
          image: testEnv.fixture,
          cmd: ['sh', '-c', `echo start-${i}; sleep 4; echo end-${i}`],
          engine: i % 2 ? 'b' : 'a',
        }).then((job) => job.id),
      ),
    );
    const ws: Client = wsClient(apis[1].url.replace(/^http/, 'ws') + '/graphql', { authorization: `Bearer ${fleet.token}` });
    try {
      const followed = ids.map((id) => followJob(id, fleet.token, apis[0].url, ws, 120_000));
      await eventually(async () => {
        const states = await Promise.all(ids.map((id) => getJob(apis[0].url, fleet.token, id)));
        return states.filter((job) => job.state === 'RUNNING').length >= 2 ? true : undefined;
      }, 60_000);
      workers.push(await fleet.start('worker'));
      const victim = workers[0] as DrydockProcess;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const events = await Promise.all(followed);
      const jobs: StormJob[] = await Promise.all(
        ids.map(async (id, i) => ({
          id,
          kind: 'run' as const,
          submittedTo: (apis[i % 2] as DrydockProcess).url,
          sseFrom: apis[0].url,
          wsFrom: apis[1].url,
          sse: events[i]?.sse ?? [],
          ws: events[i]?.ws ?? [],
          final: await getJob(apis[0].url, fleet.token, id),
        })),
      );
      for (const job of jobs) {
        expectJobDelivered(job, ['SUCCEEDED', 'FAILED']);
        if (job.final.state === 'FAILED') expect(job.final.error?.code).toBe('WORKER_LOST');
        else expect(job.final.result?.exitCode).toBe(0);
      }
      // The survivor took the killed worker's jobs over: each says so in its log.
      const takenOver = jobs.filter((job) => job.sse.some((event) => /worker (running this job stopped responding|was lost)/.test(event.message ?? '')));
      expect(takenOver.length).toBeGreaterThan(0);
    } finally {
      await ws.dispose();
    }
  }, 240_000);
});
