import { MAX_LINE_BYTES, TRUNCATED_MARK } from '@drydock/docker';
import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../testing/redis';
import { ThrottledEmitter } from './emitter';
import { JobEventStore } from './event-store';
import { JobEventKind, JobType } from './model';
import { JobRecordStore } from './record-store';

const prefix = testPrefix();
let redis: Redis;
let events: JobEventStore;
let records: JobRecordStore;

beforeAll(() => {
  redis = connectTestRedis();
  events = new JobEventStore(redis, { prefix, retentionMs: 60_000 });
  records = new JobRecordStore(redis, { prefix, retentionMs: 60_000 });
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  await redis.quit();
});

async function messages(jobId: string): Promise<string[]> {
  return (await events.range(jobId)).map((event) => event.message ?? '');
}

describe('ThrottledEmitter: the log budget, the line cap and backpressure', () => {
  it('stores lines up to the line budget, then one notice, and the count of dropped lines when it finishes', async () => {
    const emit = new ThrottledEmitter('budget-lines', events, records, { logBudget: { lines: 3, bytes: 1024 } });
    for (let i = 1; i <= 10; i++) emit.log(`line ${i}`);
    await emit.finish();
    const stored = await messages('budget-lines');
    expect(stored).toHaveLength(5);
    expect(stored.slice(0, 3)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(stored[3]).toMatch(/budget \(3 lines, 1024 bytes\) is counted and dropped/);
    expect(stored[4]).toBe("7 lines (43 bytes) of output past this job's budget were dropped");
    expect(emit.dropped).toEqual({ lines: 7, bytes: 43 });
  });

  it('stops at the byte budget, and drops every later line even a short one, so the output has one gap', async () => {
    const emit = new ThrottledEmitter('budget-bytes', events, records, { logBudget: { lines: 1000, bytes: 10 } });
    emit.log('12345');
    emit.log('123456');
    emit.log('1');
    await emit.finish();
    const stored = await messages('budget-bytes');
    expect(stored[0]).toBe('12345');
    expect(stored).toHaveLength(3);
    expect(stored[2]).toMatch(/^2 lines \(7 bytes\)/);
  });

  it('writes no notice for a job within its budget', async () => {
    const emit = new ThrottledEmitter('within', events, records, { logBudget: { lines: 2, bytes: 100 } });
    emit.log('a');
    emit.log('b');
    await emit.finish();
    expect(await messages('within')).toEqual(['a', 'b']);
  });

  it('cuts a line past the cap and marks it', async () => {
    const emit = new ThrottledEmitter('long-line', events, records);
    emit.log('x'.repeat(MAX_LINE_BYTES * 3));
    await emit.finish();
    const [line] = await messages('long-line');
    expect(Buffer.byteLength(line ?? '')).toBe(MAX_LINE_BYTES);
    expect(line?.endsWith(TRUNCATED_MARK)).toBe(true);
  });

  it('says it is congested while hundreds of writes are queued, and not once they are stored', async () => {
    const emit = new ThrottledEmitter('congested', events, records);
    expect(emit.congested).toBe(false);
    for (let i = 0; i < 300; i++) emit.log(`line ${i}`);
    expect(emit.congested).toBe(true);
    await emit.drain();
    expect(emit.congested).toBe(false);
    expect(await events.count('congested')).toBe(300);
  });

  it('never drops progress or other non-LOG events past the budget', async () => {
    await records.create({ id: 'progress', type: JobType.BUILD, request: {}, team: null });
    const emit = new ThrottledEmitter('progress', events, records, { logBudget: { lines: 0, bytes: 0 }, progressIntervalMs: 0 });
    emit.log('dropped');
    emit.step({ index: 1, count: 2, instruction: 'RUN x' }, 'Step 1/2 : RUN x');
    await emit.finish();
    const kinds = (await events.range('progress')).map((event) => event.kind);
    expect(kinds).toEqual([JobEventKind.LOG, JobEventKind.PROGRESS, JobEventKind.LOG]);
  });

  it('stores a burst in a few round trips, in the order it was emitted, and the record only its latest progress', async () => {
    await records.create({ id: 'burst', type: JobType.BUILD, request: {}, team: null });
    const appends = jest.spyOn(events, 'appendMany');
    const progress = jest.spyOn(records, 'setProgress');
    try {
      const emit = new ThrottledEmitter('burst', events, records, { progressIntervalMs: 0 });
      for (let i = 1; i <= 100; i++) {
        emit.log(`line ${i}`);
        if (i % 10 === 0) emit.step({ index: i / 10, count: 10, instruction: `RUN step ${i / 10}` }, `step ${i / 10}`);
      }
      await emit.finish();
      const stored = await events.range('burst');
      expect(stored).toHaveLength(110);
      expect(stored.filter((e) => e.kind === JobEventKind.LOG).map((e) => e.message)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i + 1}`));
      expect(stored[10]).toMatchObject({ kind: JobEventKind.PROGRESS, message: 'step 1' });
      // The first event goes alone; what gathered behind it goes together.
      expect(appends.mock.calls.length).toBeLessThanOrEqual(3);
      expect(progress.mock.calls.length).toBeLessThanOrEqual(2);
      expect((await records.get('burst'))?.progress).toBe(0.9);
    } finally {
      appends.mockRestore();
      progress.mockRestore();
    }
  });

  it('reports a failed write when drained, and stores what is emitted after it', async () => {
    const failing = jest.spyOn(events, 'appendMany').mockRejectedValueOnce(new Error('redis went away'));
    try {
      const emit = new ThrottledEmitter('write-failed', events, records);
      emit.log('lost');
      emit.log('lost too');
      await expect(emit.drain()).rejects.toThrow('redis went away');
      expect(emit.congested).toBe(false);
      emit.log('after');
      await expect(emit.drain()).rejects.toThrow('redis went away');
      expect(await messages('write-failed')).toEqual(['after']);
    } finally {
      failing.mockRestore();
    }
  });
});
