import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTokensFile } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, wsClient } from '../support/graphql';
import { expectGapless, getJob, JOB_EVENT_FIELDS, readSse, waitForJob, type JobEventJson } from '../support/jobs';
import { startProcess, type DrydockProcess } from '../support/process';

/**
 * API and worker as separate processes sharing one Redis, as a deployment
 * scales them: events cross processes, and a worker's death or shutdown never
 * leaves a job running for ever.
 */
describe('jobs across processes', () => {
  const ns = uniqueNamespace('e2e-procs');
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-procs-'));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const token = tokens['admin'] as string;
  const shared = {
    DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    DRYDOCK_TOKENS_FILE: file,
    // The build context spool: API writes it, the worker reads it.
    DRYDOCK_DATA_DIR: dataDir,
    // A worker's lock outlasts the Redis grace period, so a dead worker's jobs are taken over after it:
    // a short grace keeps the SIGKILL tests quick.
    DRYDOCK_REDIS_GRACE_SECONDS: '5',
  };
  const started: DrydockProcess[] = [];
  const start = async (role: 'api' | 'worker') => {
    const child = await startProcess(role, shared);
    started.push(child);
    return child;
  };

  afterAll(async () => {
    for (const child of started) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await Promise.all(started.map((child) => child.exited));
    removeImagesUnder(ns);
  });

  const build = async (api: DrydockProcess, dockerfile: string, tag: string): Promise<string> => {
    const response = await fetch(`${api.url}/v1/builds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      // The legacy builder: its RUN steps are containers, which these tests watch for.
      body: JSON.stringify({ dockerfile, tags: [`${ns}/app:${tag}`], noCache: true, builder: 'LEGACY' }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };

  let apiA: DrydockProcess;
  let apiB: DrydockProcess;
  let worker: DrydockProcess;

  let queuedFirst: string;
  let workerSpawnedAt: number;

  beforeAll(async () => {
    [apiA, apiB] = await Promise.all([start('api'), start('api')]);
    // Queued while only API processes run: none of them may take it.
    queuedFirst = await build(apiA, `FROM ${testEnv.fixture}\nRUN echo queued-first`, 'queued-first');
    expect((await getJob(apiB.url, token, queuedFirst)).state).toBe('QUEUED');
    workerSpawnedAt = Date.now();
    // Two waves of start-ups: the API processes, then the worker.
    worker = await start('worker');
  }, 90_000);

  it('runs no job in an API process: one queued before the first worker started runs only once it has', async () => {
    const job = await waitForJob(apiA.url, token, queuedFirst, 60_000);
    expect(job.state).toBe('SUCCEEDED');
    expect(Date.parse(job.startedAt ?? '')).toBeGreaterThanOrEqual(workerSpawnedAt);
  });

  it('serves health from a worker process, and neither GraphQL, nor the REST API, nor its OpenAPI document', async () => {
    const live = await fetch(`${worker.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${worker.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', engine: { status: 'up' }, redis: { status: 'up' } });
    const graphql = await fetch(`${worker.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(graphql.status).toBe(404);
    for (const path of ['/v1/images', `/v1/images/${encodeURIComponent(testEnv.fixture)}`, '/v1/jobs', '/docs-json']) {
      const response = await fetch(`${worker.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  it('delivers the events of a job submitted to one API process through another, over SSE and graphql-ws', async () => {
    const id = await build(apiA, `FROM ${testEnv.fixture}\nRUN for i in 1 2 3; do echo line $i; sleep 0.2; done`, 'shared');
    const client = wsClient(apiB.url.replace('http', 'ws') + '/graphql', { authorization: `Bearer ${token}` });
    try {
      const [fromA, fromB, overWs] = await Promise.all([
        readSse(apiA.url, token, id),
        readSse(apiB.url, token, id),
        collect<JobEventJson>(client, `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`, { id }, () => false, 60_000),
      ]);
      expectGapless(fromA.events);
      expect(fromA.events.at(-1)?.state).toBe('SUCCEEDED');
      expect(fromB.events).toEqual(fromA.events);
      expect(overWs.map((e) => e.sequence)).toEqual(fromA.events.map((e) => e.sequence));
      expect(fromB.events.filter((e) => e.message?.startsWith('line ')).map((e) => e.message)).toEqual(['line 1', 'line 2', 'line 3']);
    } finally {
      await client.dispose();
    }
  });

  it('never leaves a job RUNNING after its worker is killed with SIGKILL: it is retried elsewhere, and subscribers see the end', async () => {
    const id = await build(apiA, `FROM ${testEnv.fixture}\nRUN echo started-${ns} && sleep 4 && echo finished`, 'killed');
    // Kill it in the middle of the RUN step, not before the engine was even called.
    await eventually(
      async () => (docker('ps', '--no-trunc', '--format', '{{.Command}}').includes(`started-${ns}`) ? true : undefined),
      30_000,
      'the RUN step to start',
    );
    const watching = readSse(apiB.url, token, id, {}, 90_000);

    worker.child.kill('SIGKILL');
    await worker.exited;
    // Another worker takes over, as a deployment's supervisor would start one.
    worker = await start('worker');

    const job = await waitForJob(apiA.url, token, id, 60_000);
    expect(['SUCCEEDED', 'FAILED']).toContain(job.state);
    if (job.state === 'FAILED') expect(job.error?.code).toBe('WORKER_LOST');
    const { events } = await watching;
    expectGapless(events);
    expect(events.at(-1)?.state).toBe(job.state);
    expect(events.some((e) => e.kind === 'LOG' && /worker .*(stopped responding|lost)/.test(e.message ?? ''))).toBe(true);
    // The step ran again on the new worker.
    if (job.state === 'SUCCEEDED') expect(events.filter((e) => e.message === `started-${ns}`).length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('lets a running job finish on SIGTERM before the worker exits', async () => {
    const id = await build(apiA, `FROM ${testEnv.fixture}\nRUN echo draining && sleep 2 && echo drained`, 'drained');
    await eventually(async () => ((await getJob(apiA.url, token, id)).state === 'RUNNING' ? true : undefined), 30_000, 'the build to run');
    worker.child.kill('SIGTERM');
    // Nest closes the app, then re-raises the signal: exiting by SIGTERM is the clean path.
    expect([0, 'SIGTERM']).toContain(await worker.exited);
    const job = await getJob(apiA.url, token, id);
    expect(job.state).toBe('SUCCEEDED');
    const { events } = await readSse(apiB.url, token, id);
    expect(events.some((e) => e.message === 'drained')).toBe(true);
    // Its end reached the audit trail although the worker was shutting down when it came.
    const audit = (await (await fetch(`${apiA.url}/v1/audit?limit=100`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<Record<string, string>>;
    expect(audit).toContainEqual(expect.objectContaining({ action: 'job BUILD', target: expect.stringContaining(`jobId=${id} state=SUCCEEDED`), outcome: 'ok' }));
  }, 60_000);
});
