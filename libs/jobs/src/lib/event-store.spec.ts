import { DrydockError, ErrorCode } from '@drydock/core';
import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../testing/redis';
import { JobEventStore, MAX_APPEND_BATCH } from './event-store';
import { JobEventKind, JobState, LogStream } from './model';
import type { RedisRide } from './redis-outage';

const prefix = testPrefix();
let a: Redis;
let b: Redis;
let storeA: JobEventStore;
let storeB: JobEventStore;

beforeAll(() => {
  a = connectTestRedis();
  b = connectTestRedis();
  storeA = new JobEventStore(a, { prefix, retentionMs: 60_000 });
  storeB = new JobEventStore(b, { prefix, retentionMs: 60_000 });
});

afterAll(async () => {
  await removeKeys(a, prefix);
  await Promise.all([a.quit(), b.quit()]);
});

/** A write applied whose answer was lost, then sent again (ioredis resending, a ride through an outage). */
const sentTwice: RedisRide = async (op) => {
  await op();
  return op();
};

describe('JobEventStore', () => {
  it('stores an append sent twice once, with one sequence, and keeps the next one gapless', async () => {
    const jobId = 'sent-twice';
    const store = new JobEventStore(a, { prefix, retentionMs: 60_000, ride: sentTwice });
    const first = await store.append(jobId, { kind: JobEventKind.LOG, message: 'one' });
    const second = await store.append(jobId, { kind: JobEventKind.LOG, message: 'two' });
    const end = await store.append(jobId, { kind: JobEventKind.STATE, state: JobState.SUCCEEDED });

    expect([first.sequence, second.sequence, end.sequence]).toEqual([1, 2, 3]);
    expect((await storeA.range(jobId)).map((e) => [e.sequence, e.message ?? e.state])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, JobState.SUCCEEDED],
    ]);
  });

  it('keeps one writer\'s appends to a job in the order they were made, even when they are not awaited', async () => {
    const jobId = 'unawaited';
    const slow: RedisRide = async (op) => {
      await new Promise((resolve) => setImmediate(resolve));
      return op();
    };
    const store = new JobEventStore(a, { prefix, retentionMs: 60_000, ride: slow });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(jobId, { kind: JobEventKind.LOG, message: String(i) })));
    expect((await storeA.range(jobId)).map((e) => e.message)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('numbers events gaplessly under 20 concurrent appenders on 2 connections', async () => {
    const jobId = 'concurrent';
    const perWriter = 25;
    await Promise.all(
      Array.from({ length: 20 }, async (_, writer) => {
        const store = writer % 2 === 0 ? storeA : storeB;
        for (let i = 0; i < perWriter; i++) {
          await store.append(jobId, { kind: JobEventKind.LOG, message: `${writer}:${i}` });
        }
      }),
    );

    const events = await storeA.range(jobId);
    expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 20 * perWriter }, (_, i) => i + 1));
    expect(await storeB.count(jobId)).toBe(20 * perWriter);
    // Each writer's own events keep their order.
    for (let writer = 0; writer < 20; writer++) {
      const mine = events.filter((e) => e.message?.startsWith(`${writer}:`)).map((e) => e.message);
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => `${writer}:${i}`));
    }
  });

  it('fills every field and replays from a sequence', async () => {
    const jobId = 'replay';
    const first = await storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.QUEUED });
    expect(first).toEqual({
      jobId,
      sequence: 1,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      kind: JobEventKind.STATE,
      state: JobState.QUEUED,
      message: null,
      progress: null,
      layer: null,
      step: null,
      stream: null,
      result: null,
      error: null,
    });
    await storeA.append(jobId, {
      kind: JobEventKind.PROGRESS,
      progress: 0.5,
      layer: { id: 'abc', status: 'Downloading', current: 5, total: 10 },
    });
    await storeA.append(jobId, { kind: JobEventKind.LOG, message: 'quote " and \\ and ünïcode' });

    const replay = await storeB.range(jobId, 2);
    expect(replay.map((e) => e.sequence)).toEqual([2, 3]);
    expect(replay[0]?.layer).toEqual({ id: 'abc', status: 'Downloading', current: 5, total: 10 });
    expect(replay[1]?.message).toBe('quote " and \\ and ünïcode');
    expect(await storeA.range(jobId, 4)).toEqual([]);
  });

  it('lets go of the reply it read a page from, so the rows die with the page', async () => {
    const jobId = 'job-page-reply';
    for (let i = 0; i < 3; i++) await storeA.append(jobId, { kind: JobEventKind.LOG, message: `line ${i}` });
    const replies: string[][] = [];
    const read = a.lrange.bind(a) as (key: string, start: number, stop: number) => Promise<string[]>;
    const lrange = jest.spyOn(a, 'lrange').mockImplementation((async (key: string, start: number, stop: number) => {
      const reply = await read(key, start, stop);
      replies.push(reply);
      return reply;
    }) as never);
    const page = await storeA.range(jobId, 1, 10).finally(() => lrange.mockRestore());
    expect(page.map((event) => event.message)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toEqual([]);
  });

  it('refuses to append after the terminal STATE event and keeps it last', async () => {
    const jobId = 'closed';
    await storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.RUNNING });
    await storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.SUCCEEDED });

    const late = storeB.append(jobId, { kind: JobEventKind.LOG, message: 'straggler' });
    await expect(late).rejects.toBeInstanceOf(DrydockError);
    await expect(late).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
    await expect(storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.FAILED })).rejects.toMatchObject({
      code: ErrorCode.JOB_FINISHED,
    });

    const events = await storeA.range(jobId);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ kind: JobEventKind.STATE, state: JobState.SUCCEEDED });
    expect(await storeA.isClosed(jobId)).toBe(true);
  });

  it('keeps events for the retention period', async () => {
    const jobId = 'ttl';
    await storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.CANCELLED });
    for (const key of [
      storeA.keys.eventList(jobId),
      storeA.keys.eventCounter(jobId),
      storeA.keys.eventsClosed(jobId),
    ]) {
      const ttl = await a.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('stores a batch in one call with consecutive sequences, publishing each event on its own', async () => {
    const jobId = 'batch';
    const heard: string[] = [];
    const subscriber = connectTestRedis();
    try {
      await subscriber.subscribe(storeA.keys.eventChannel(jobId));
      subscriber.on('message', (_channel: string, json: string) => heard.push(json));
      await storeA.append(jobId, { kind: JobEventKind.STATE, state: JobState.RUNNING });
      const batch = await storeA.appendMany(jobId, [
        { kind: JobEventKind.LOG, message: 'one' },
        { kind: JobEventKind.PROGRESS, progress: 0.5 },
        { kind: JobEventKind.LOG, message: 'three', stream: LogStream.STDERR },
      ]);
      expect(batch.map((e) => e.sequence)).toEqual([2, 3, 4]);
      expect((await storeB.range(jobId)).map((e) => [e.sequence, e.kind, e.message])).toEqual([
        [1, JobEventKind.STATE, null],
        [2, JobEventKind.LOG, 'one'],
        [3, JobEventKind.PROGRESS, null],
        [4, JobEventKind.LOG, 'three'],
      ]);
      const deadline = Date.now() + 5_000;
      while (heard.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard.map((json) => (JSON.parse(json) as { sequence: number }).sequence)).toEqual([1, 2, 3, 4]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('stores a batch sent twice once, and answers the same sequences', async () => {
    const jobId = 'batch-twice';
    const store = new JobEventStore(a, { prefix, retentionMs: 60_000, ride: sentTwice });
    const batch = await store.appendMany(jobId, [
      { kind: JobEventKind.LOG, message: 'a' },
      { kind: JobEventKind.LOG, message: 'b' },
    ]);
    const next = await store.append(jobId, { kind: JobEventKind.LOG, message: 'c' });
    expect([...batch, next].map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect((await storeA.range(jobId)).map((e) => e.message)).toEqual(['a', 'b', 'c']);
  });

  it('closes the events with a batch that ends the job, and refuses one that ends it midway or is too long', async () => {
    const jobId = 'batch-closes';
    await storeA.appendMany(jobId, [
      { kind: JobEventKind.LOG, message: 'last words' },
      { kind: JobEventKind.STATE, state: JobState.SUCCEEDED },
    ]);
    expect(await storeA.isClosed(jobId)).toBe(true);
    await expect(storeA.appendMany(jobId, [{ kind: JobEventKind.LOG, message: 'late' }])).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
    expect(() => storeA.appendMany('batch-midway', [{ kind: JobEventKind.STATE, state: JobState.FAILED }, { kind: JobEventKind.LOG, message: 'after' }])).toThrow(RangeError);
    const tooMany = Array.from({ length: MAX_APPEND_BATCH + 1 }, () => ({ kind: JobEventKind.LOG, message: 'x' }));
    expect(() => storeA.appendMany('batch-long', tooMany)).toThrow(RangeError);
    expect(await storeA.count('batch-midway')).toBe(0);
  });
});
