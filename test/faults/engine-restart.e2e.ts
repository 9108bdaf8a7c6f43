import type { RunningApp } from '../support/app';
import { startFaultRig, type FaultRig } from '../support/fault-rig';
import { uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { getJob, readSse, waitForJob } from '../support/jobs';
import { pushBigImage, type SecondDockerd } from '../support/second-dockerd';

/**
 * The engine restarting under Drydock, on an engine of this suite's own:
 * while it is down, engine-bound requests are 503 ENGINE_UNAVAILABLE and
 * readiness says so, queued jobs wait without using an attempt, and a job cut
 * in the middle is retried; once it is back everything works again, the
 * catalogue following its events, without restarting Drydock.
 */
describe('the engine restarting', () => {
  const ns = uniqueNamespace('e2e-engine');
  let rig: FaultRig;
  let engine: SecondDockerd;
  let running: RunningApp;
  let big: string;

  beforeAll(async () => {
    // One download at a time: the pull of the big image lasts long enough to be cut.
    rig = await startFaultRig(['--max-concurrent-downloads=1'], async ({ engine, registry }) => {
      big = `${registry.host}/${ns}/big:1`;
      await pushBigImage(engine, testEnv.fixture, big, 3, 16);
    });
    ({ engine, running } = rig);
  }, 120_000);

  afterAll(() => rig?.destroy());

  /** Restarts the engine and waits until Drydock is ready again. */
  const bringBack = async () => {
    await engine.start();
    await rig.whenReady();
  };

  /**
   * Restarts the engine while job `id` runs; the job must succeed. On SIGTERM the engine may finish
   * the request in flight before it stops (the job then simply succeeds) or cut it (the job is then
   * retried, once, as ENGINE_UNAVAILABLE): either way the job's outcome is the engine's.
   */
  const restartDuring = async (id: string) => {
    await engine.stop();
    await bringBack();
    const job = await waitForJob(running.url, running.token, id, 60_000);
    const { events } = await readSse(running.url, running.token, id);
    expect(job.state).toBe('SUCCEEDED');
    const attempts = events.map((event) => event.message).filter((m) => m?.startsWith('Attempt'));
    if (attempts.length) {
      expect(attempts).toEqual([expect.stringMatching(/^Attempt 1 of \d+ failed \(ENGINE_UNAVAILABLE/), expect.stringMatching(/^Attempt 2 of/)]);
    }
    return events;
  };

  it('answers 503 ENGINE_UNAVAILABLE while the engine is down, readiness says so, and a queued job waits without using an attempt', async () => {
    await engine.stop();
    const problem = await eventually(async () => {
      const response = await api(running).get('/v1/images');
      return response.status === 503 ? response.body : undefined;
    }, 10_000, 'GET /v1/images to answer 503');
    expect(problem.code).toBe('ENGINE_UNAVAILABLE');
    const ready = await fetch(`${running.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { engine: { status: string } }).engine.status).toBe('down');

    const queued = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture }).expect(202);
    // Long enough for the worker to have taken it several times over, had it not been held back.
    const watchUntil = Date.now() + 3_000;
    while (Date.now() < watchUntil) {
      const job = await getJob(running.url, running.token, queued.body.id);
      expect(job.state).toBe('QUEUED');
      expect((job as unknown as { attempts: number }).attempts).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    await bringBack();
    await api(running).get('/v1/images').expect(200);
    const job = await waitForJob(running.url, running.token, queued.body.id, 30_000);
    expect(job.state).toBe('SUCCEEDED');
    expect((job as unknown as { attempts: number }).attempts).toBe(1);
  }, 90_000);

  it('follows the engine\'s events again after a restart: a tag made then reaches the catalogue and the imageEvents subscribers', async () => {
    await engine.stop();
    await bringBack();
    const before = (await api(running).get('/v1/images').expect(200)).body as Array<{ repoTags: string[] }>;
    expect(JSON.stringify(before)).not.toContain(`${ns}/after`);

    const client = wsClient(running.wsUrl, running.auth);
    try {
      const seen = collect<{ action: string; reference: string | null }>(
        client,
        'subscription { imageEvents { action id reference at } }',
        {},
        (events) => events.some((event) => event.action === 'tag' && (event.reference ?? '').includes(`${ns}/after`)),
        20_000,
      );
      // The subscription opens lazily: tag until it has seen one.
      let n = 0;
      let done = false;
      void seen.finally(() => (done = true)).catch(() => undefined);
      while (!done && n < 40) {
        await engine.docker('tag', testEnv.fixture, `${ns}/after:${++n}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await seen;
    } finally {
      await client.dispose();
    }
    const after = await eventually(async () => {
      const images = (await api(running).get('/v1/images').expect(200)).body as unknown[];
      return JSON.stringify(images).includes(`${ns}/after`) ? images : undefined;
    }, 5_000, 'the catalogue to list the new tag');
    expect(after.length).toBeGreaterThan(0);
  }, 90_000);

  it('ends a pull the engine was stopped in the middle of with the engine\'s outcome: finished before it stopped, or cut and retried', async () => {
    const accepted = await api(running).post('/v1/images/pull').send({ reference: big }).expect(202);
    const id = accepted.body.id as string;
    // Cut it once layers are moving, not before the engine was even called.
    await eventually(async () => (((await getJob(running.url, running.token, id)).progress ?? 0) > 0 ? true : undefined), 30_000, 'the pull to move layers');
    await restartDuring(id);
    expect(await engine.docker('image', 'inspect', '--format', '{{.Id}}', big)).toMatch(/^sha256:/);
  }, 120_000);

  it('ends a build the engine was stopped in the middle of with the engine\'s outcome: finished before it stopped, or cut and retried', async () => {
    const marker = `step-${ns}`;
    const accepted = await api(running)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo ${marker} && sleep 8 && echo finished`, tags: [`${ns}/built:1`], noCache: true, builder: 'LEGACY' })
      .expect(202);
    const id = accepted.body.id as string;
    await eventually(
      async () => ((await engine.docker('ps', '--no-trunc', '--format', '{{.Command}}')).includes(marker) ? true : undefined),
      30_000,
      'the RUN step to start',
    );
    const events = await restartDuring(id);
    expect(events.some((event) => event.message === 'finished')).toBe(true);
    expect(await engine.docker('image', 'inspect', '--format', '{{.Id}}', `${ns}/built:1`)).toMatch(/^sha256:/);
  }, 120_000);
});
