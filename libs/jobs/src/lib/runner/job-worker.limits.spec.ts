import { ErrorCode } from '@drydock/core';
import { waitFor } from '../../testing/redis';
import { closeHarnesses, harness, pullData, started, untilAborted } from '../../testing/runner-harness';
import { JobState, JobType } from '../model';
import { TIMEOUT_REASON } from './handler';
import { TeamSlots } from './team-slots';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

/** A queue and worker sharing one TeamSlots, as the app wires them. */
function limitedHarness() {
  const first = harness();
  const slots = new TeamSlots(first.redis, first.records);
  // The harness's own queue has no slots: queue through one that does, on the same prefix.
  const producer = harness({ records: first.records, events: first.events, slots });
  return { h: { queue: producer.queue, startWorker: first.startWorker.bind(first) }, slots, records: first.records };
}

describe('JobWorker team limits and time limits', () => {
  it("holds a team's job past its running limit without using an attempt, runs another team's meanwhile, and wakes it when the slot frees", async () => {
    const { h, records, slots } = limitedHarness();
    const first = started();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await h.startWorker(
      async ({ data }) => {
        if (data.reference === 'a1') {
          first.signal();
          await held;
        }
        return { imageId: 'sha256:1', tags: [] };
      },
      // Parked this long, only the wake on release can start a2 within the test.
      { slots, maxRunningPerTeam: { [JobType.PULL]: 1 }, parkMs: 60_000 },
    );
    const a1 = await h.queue.enqueue(JobType.PULL, pullData('a1'), { team: 'a' });
    await first.wait;
    const a2 = await h.queue.enqueue(JobType.PULL, pullData('a2'), { team: 'a' });
    const b1 = await h.queue.enqueue(JobType.PULL, pullData('b1'), { team: 'b' });

    await waitFor('b1 to succeed', async () => (await records.get(b1.id))?.state === JobState.SUCCEEDED);
    expect((await records.get(a2.id))?.state).toBe(JobState.QUEUED);
    expect(await slots.positions([a2])).toEqual([1]);

    release();
    const ended = await waitFor(
      'a2 to succeed',
      async () => {
        const record = await records.get(a2.id);
        return record?.state === JobState.SUCCEEDED ? record : undefined;
      },
      10_000,
    );
    expect(ended.attempts).toBe(1);
    expect((await records.get(a1.id))?.state).toBe(JobState.SUCCEEDED);
  });

  it("ends a job past its own time limit FAILED JOB_TIMEOUT, its handler aborted with the time limit's reason", async () => {
    const { h, records, slots } = limitedHarness();
    let reason: unknown;
    await h.startWorker(
      async ({ signal }) => {
        signal.addEventListener('abort', () => (reason = signal.reason));
        return untilAborted(signal);
      },
      { slots, timeoutMs: { [JobType.PULL]: 60_000 } },
    );
    const job = await h.queue.enqueue(JobType.PULL, pullData('slow'), { team: 'a', timeoutSeconds: 1 });
    const ended = await waitFor(
      'the job to end',
      async () => {
        const record = await records.get(job.id);
        return record && record.state !== JobState.QUEUED && record.state !== JobState.RUNNING ? record : undefined;
      },
      10_000,
    );
    expect(ended).toMatchObject({ state: JobState.FAILED, error: { code: ErrorCode.JOB_TIMEOUT }, attempts: 1 });
    expect(reason).toBe(TIMEOUT_REASON);
  });
});
