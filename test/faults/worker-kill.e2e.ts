import { docker, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { readSse, waitForJob } from '../support/jobs';
import { processFleet } from '../support/fleet';
import type { DrydockProcess } from '../support/process';

/**
 * A worker killed with SIGKILL in the middle of a run: the command runs once
 * (one container for the job, its output once in the events), and the job
 * ends with the command's real outcome, followed by the worker that took it over.
 */
describe('a worker killed during a run', () => {
  const ns = uniqueNamespace('e2e-kill');
  const fleet = processFleet('kill');
  const { token, start } = fleet;
  let apiProcess: DrydockProcess;
  let worker: DrydockProcess;
  let jobId = '';

  beforeAll(async () => {
    try {
      docker('image', 'inspect', testEnv.fixture);
    } catch {
      docker('pull', '-q', testEnv.fixture);
    }
    [apiProcess, worker] = await Promise.all([start('api'), start('worker')]);
  }, 60_000);

  afterAll(async () => {
    await fleet.stop();
    if (jobId) docker('container', 'prune', '-f', '--filter', `label=io.drydock.job=${jobId}`);
  });

  const containersOf = (id: string) => docker('ps', '-aq', '--no-trunc', '--filter', `label=io.drydock.job=${id}`).split('\n').filter(Boolean);

  it('runs the command once and ends with its real exit code, followed by the worker that takes over', async () => {
    const cmd = ['sh', '-c', `echo started-${ns}; sleep 4; echo finished-${ns}; exit 3`];
    const response = await fetch(`${apiProcess.url}/v1/containers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: testEnv.fixture, cmd }),
    });
    expect(response.status).toBe(202);
    jobId = ((await response.json()) as { id: string }).id;
    await eventually(
      async () => (docker('ps', '-q', '--filter', `label=io.drydock.job=${jobId}`) ? true : undefined),
      30_000,
      'the run container to start',
    );

    worker.child.kill('SIGKILL');
    await worker.exited;
    worker = await start('worker');

    const job = await waitForJob(apiProcess.url, token, jobId, 90_000);
    const { events } = await readSse(apiProcess.url, token, jobId);
    const messages = events.map((event) => event.message ?? '');
    // The engine's outcome, not the worker's death.
    expect(job.state).toBe('FAILED');
    expect(job.error?.code).toBe('RUN_FAILED');
    expect(job.error?.message).toContain('exited with code 3');
    // Once: one container for the job, its output once.
    expect(containersOf(jobId)).toHaveLength(1);
    expect(messages.filter((m) => m === `started-${ns}`)).toHaveLength(1);
    expect(messages.filter((m) => m === `finished-${ns}`)).toHaveLength(1);
    expect(messages.some((m) => /^Following container [0-9a-f]{12}, started by attempt 1/.test(m))).toBe(true);
  }, 120_000);
});
