import type { RunningApp } from '../support/app';
import { startFaultRig, type FaultRig } from '../support/fault-rig';
import { uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { api } from '../support/http';
import { readSse, waitForJob, type JobJson } from '../support/jobs';
import type { RegistryProcess } from '../support/registry-process';
import { buildBigImage } from '../support/second-dockerd';

/**
 * A registry killed in the middle of a push, on a registry (and an engine) of
 * this suite's own: the job ends REGISTRY_UNREACHABLE after a bounded number
 * of attempts, nothing of it is left open, and once the registry is back a
 * push of the same image goes through whole.
 */
describe('a registry failing mid-push', () => {
  const ns = uniqueNamespace('e2e-regfail');
  let rig: FaultRig;
  let registry: RegistryProcess;
  let running: RunningApp;
  let ref: string;

  beforeAll(async () => {
    rig = await startFaultRig(['--max-concurrent-uploads=1'], async ({ engine, registry }) => {
      ref = `${registry.host}/${ns}/big:1`;
      await buildBigImage(engine, testEnv.fixture, ref, 3, 16);
    });
    ({ registry, running } = rig);
  }, 120_000);

  afterAll(() => rig?.destroy());

  const push = async (): Promise<string> =>
    (await api(running).post(`/v1/images/${encodeURIComponent(ref)}/push`).send({}).expect(202)).body.id as string;

  it('ends REGISTRY_UNREACHABLE after its bounded attempts, then a later push of the same image succeeds whole', async () => {
    const id = await push();
    await eventually(
      async () => ((await api(running).get(`/v1/jobs/${id}`).expect(200)).body as JobJson).progress ? true : undefined,
      30_000,
      'the push to move layers',
    );
    await registry.stop();

    const failed = await waitForJob(running.url, running.token, id, 90_000);
    expect(failed.state).toBe('FAILED');
    expect(failed.error?.code).toBe('REGISTRY_UNREACHABLE');
    expect((failed as unknown as { attempts: number }).attempts).toBe(3);
    const { events } = await readSse(running.url, running.token, id);
    expect(events.filter((event) => /^Attempt \d of 3 failed \(REGISTRY_UNREACHABLE/.test(event.message ?? ''))).toHaveLength(2);
    // Nothing of it left open in Drydock.
    const open = ((await api(running).get('/v1/jobs').query({ limit: 100 }).expect(200)).body as JobJson[]).filter(
      (job) => job.state === 'RUNNING' || job.state === 'QUEUED',
    );
    expect(open).toEqual([]);
    expect(await registry.hasManifest(`${ns}/big`, '1').catch(() => false)).toBe(false);

    await registry.start();
    const again = await waitForJob(running.url, running.token, await push(), 60_000);
    expect(again.state).toBe('SUCCEEDED');
    expect(again.result?.digest).toMatch(/^sha256:/);
    expect(await registry.hasManifest(`${ns}/big`, '1')).toBe(true);
  }, 180_000);
});
