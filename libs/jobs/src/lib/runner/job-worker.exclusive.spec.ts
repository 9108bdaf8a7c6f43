import { waitFor } from '../../testing/redis';
import { type Handle, closeHarnesses, handler, harness, pullData, started } from '../../testing/runner-harness';
import { JOB_TYPES, JobEventKind, JobState, JobType } from '../model';
import { ExclusiveLeases } from './exclusive-leases';
import type { JobHandler } from './handler';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

/** Every type faked, pulls exclusive per repository as pushes are in the app. */
function handlers(pull: Handle): JobHandler[] {
  const exclusivePull = {
    ...handler(JobType.PULL, pull),
    exclusive: (data: { repository: string }) => ({ key: `pull:${data.repository}`, label: `the pull of ${data.repository}` }),
  } as JobHandler;
  return [exclusivePull, ...JOB_TYPES.filter((type) => type !== JobType.PULL).map((type) => handler(type))];
}

describe('JobWorker exclusive work', () => {
  it('holds a job whose work another job holds QUEUED, says so once, runs other work meanwhile, and wakes it when that job ends', async () => {
    const h = harness();
    const first = started();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pull: Handle = async ({ data }) => {
      if (data.reference === 'a1') {
        first.signal();
        await held;
      }
      return { imageId: 'sha256:1', tags: [] };
    };
    // Parked this long, only the wake on release can start a2 within the test.
    await h.startWorker(pull, { handlers: handlers(pull), leases: new ExclusiveLeases(h.redis, h.records), parkMs: 60_000 });
    const a1 = await h.queue.enqueue(JobType.PULL, { ...pullData('a1'), repository: 'same' });
    await first.wait;
    const a2 = await h.queue.enqueue(JobType.PULL, { ...pullData('a2'), repository: 'same' });
    const b = await h.queue.enqueue(JobType.PULL, { ...pullData('b'), repository: 'other' });

    await waitFor('b to succeed', async () => (await h.records.get(b.id))?.state === JobState.SUCCEEDED);
    await waitFor('a2 to say it waits', async () => (await h.events.count(a2.id)) >= 2);
    expect((await h.records.get(a2.id))?.state).toBe(JobState.QUEUED);

    release();
    const a2Events = await h.history(a2.id);
    const a1Events = await h.history(a1.id);
    const notes = a2Events.filter((event) => event.kind === JobEventKind.LOG && event.message?.startsWith('waiting for'));
    expect(notes.map((note) => note.message)).toEqual([`waiting for the pull of same by job ${a1.id}`]);
    const a2Running = a2Events.find((event) => event.state === JobState.RUNNING);
    const a1Ended = a1Events.at(-1);
    expect(a1Ended?.state).toBe(JobState.SUCCEEDED);
    expect(a2Events.at(-1)?.state).toBe(JobState.SUCCEEDED);
    expect(Date.parse(a2Running?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(a1Ended?.at ?? ''));
  });
});
