import { DrydockError, ErrorCode } from '@drydock/core';
import { waitFor } from '../../testing/redis';
import { closeHarnesses, harness, kinds, pullData } from '../../testing/runner-harness';
import { type JobEvent, JobEventKind, JobState, JobType } from '../model';

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

describe('endings', () => {
  it('stores the closing events of a job it ends in one append, read nothing first: RESULT and STATE, or ERROR and STATE', async () => {
    const h = harness();
    const appends: string[][] = [];
    const appendMany = h.events.appendMany.bind(h.events);
    jest.spyOn(h.events, 'appendMany').mockImplementation((id, inputs) => {
      appends.push(kinds(inputs.map((input, i) => ({ ...input, jobId: id, sequence: i }) as JobEvent)));
      return appendMany(id, inputs);
    });
    const range = jest.spyOn(h.events, 'range');
    await h.startWorker(async (ctx) => {
      if (ctx.data.reference === 'bad') throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, 'no such image');
      return { imageId: 'sha256:abc' };
    });
    const good = await h.queue.enqueue(JobType.PULL, pullData('good'));
    expect(kinds(await h.history(good.id)).slice(-2)).toEqual(['RESULT', 'STATE SUCCEEDED']);
    const bad = await h.queue.enqueue(JobType.PULL, pullData('bad'));
    expect(kinds(await h.history(bad.id)).slice(-2)).toEqual(['ERROR', 'STATE FAILED']);
    expect(appends).toContainEqual(['RESULT', 'STATE SUCCEEDED']);
    expect(appends).toContainEqual(['ERROR', 'STATE FAILED']);
    // Only the followers above read the events (from the first one on); the endings read no tail.
    expect(range.mock.calls.every(([, from]) => from === 1)).toBe(true);
  });
});

describe('stranded endings', () => {
  it('sees through an ending whose process died after the record ended: the closing events and the hook, once', async () => {
    const ended: string[] = [];
    const h = harness();
    const job = await h.queue.enqueue(JobType.PULL, pullData('orphan'));
    // What a worker killed just after the record's transition leaves: the record ended, its events open.
    await h.records.transition(job.id, JobState.FAILED, { error: { code: ErrorCode.IMAGE_NOT_FOUND, message: 'no such image' } });
    expect(await h.events.isClosed(job.id)).toBe(false);

    await h.startWorker(async () => ({}), { strandedEndingMs: 50, onJobEnded: (record) => void ended.push(`${record.id} ${record.state}`) });
    expect(kinds(await h.history(job.id))).toEqual(['STATE QUEUED', 'ERROR', 'STATE FAILED']);
    await waitFor('the hook told', () => ended.length > 0);
    await waitFor('the ending marked seen through', async () => (await h.redis.zcard(h.records.keys.endings)) === 0);
    expect(ended).toEqual([`${job.id} FAILED`]);
  });

  it('stores only the closing events a first try did not, when it died between them', async () => {
    const h = harness();
    const job = await h.queue.enqueue(JobType.PULL, pullData('half'));
    await h.records.transition(job.id, JobState.SUCCEEDED, { result: { imageId: 'sha256:abc' }, progress: 1 });
    await h.events.append(job.id, { kind: JobEventKind.RESULT, result: { imageId: 'sha256:abc' } });

    await h.startWorker(async () => ({}), { strandedEndingMs: 50 });
    expect(kinds(await h.history(job.id))).toEqual(['STATE QUEUED', 'RESULT', 'STATE SUCCEEDED']);
  });

  it('leaves nothing to sweep after an ending that went through', async () => {
    const h = harness();
    await h.startWorker(async () => ({ imageId: 'sha256:abc' }));
    const job = await h.queue.enqueue(JobType.PULL, pullData('fine'));
    expect(kinds(await h.history(job.id)).slice(-2)).toEqual(['RESULT', 'STATE SUCCEEDED']);
    await waitFor('the ending marked seen through', async () => (await h.redis.zcard(h.records.keys.endings)) === 0);
  });
});
