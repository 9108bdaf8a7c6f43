import { DrydockError, ErrorCode } from '@drydock/core';
import { waitFor } from '../../testing/redis';
import { closeHarnesses, harness, kinds, pullData } from '../../testing/runner-harness';
import { JobState, JobType } from '../model';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

describe('onJobEnded', () => {
  it('tells the hook of every end once, in the process that ended it: succeeded, failed, cancelled while queued', async () => {
    const ended: Array<{ from: string; id: string; state: JobState; code: string | null }> = [];
    const hook = (from: string) => (job: { id: string; state: JobState; error: { code: string } | null }) => {
      ended.push({ from, id: job.id, state: job.state, code: job.error?.code ?? null });
    };
    const h = harness({ onJobEnded: hook('queue') });
    const cancelled = await h.queue.enqueue(JobType.PULL, pullData('never'));
    await h.queue.cancel(cancelled.id);
    await h.startWorker(
      async (ctx) => {
        if (ctx.data.reference === 'bad') throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, 'no such image');
        return {};
      },
      { onJobEnded: hook('worker') },
    );
    const good = await h.queue.enqueue(JobType.PULL, pullData('good'));
    const bad = await h.queue.enqueue(JobType.PULL, pullData('bad'));
    await h.history(good.id);
    await h.history(bad.id);
    // The hook runs just after the terminal event a follower sees: wait for it.
    await waitFor('both endings reported', () => ended.length >= 3);
    expect(ended).toEqual(
      expect.arrayContaining([
        { from: 'queue', id: cancelled.id, state: JobState.CANCELLED, code: null },
        { from: 'worker', id: good.id, state: JobState.SUCCEEDED, code: null },
        { from: 'worker', id: bad.id, state: JobState.FAILED, code: 'IMAGE_NOT_FOUND' },
      ]),
    );
    expect(ended).toHaveLength(3);
  });

  it('ends the job even when the hook fails', async () => {
    const h = harness();
    await h.startWorker(async () => ({}), {
      onJobEnded: () => {
        throw new Error('audit down');
      },
    });
    const job = await h.queue.enqueue(JobType.PULL, pullData('x'));
    expect(kinds(await h.history(job.id)).slice(-1)).toEqual(['STATE SUCCEEDED']);
    expect(await h.records.require(job.id)).toMatchObject({ state: JobState.SUCCEEDED });
  });
});
