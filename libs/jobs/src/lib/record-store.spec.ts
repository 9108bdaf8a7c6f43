import { ErrorCode } from '@drydock/core';
import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../testing/redis';
import { JobState, JobType } from './model';
import { JobRecordStore } from './record-store';
import type { RedisRide } from './redis-outage';

const prefix = testPrefix();
let redis: Redis;
let other: Redis;
let records: JobRecordStore;

beforeAll(() => {
  redis = connectTestRedis();
  other = connectTestRedis();
  records = new JobRecordStore(redis, { prefix, retentionMs: 60_000 });
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  await Promise.all([redis.quit(), other.quit()]);
});

describe('JobRecordStore', () => {
  it('takes a transition whose answer was lost and that was sent again as its own, not as someone else\'s ending', async () => {
    const sentTwice: RedisRide = async (op) => {
      await op();
      return op();
    };
    const riding = new JobRecordStore(redis, { prefix, retentionMs: 60_000, ride: sentTwice });
    await records.create({ id: 'lost-answer', type: JobType.RUN, request: {} });
    await riding.transition('lost-answer', JobState.RUNNING);
    const ended = await riding.transition('lost-answer', JobState.SUCCEEDED, { result: { exitCode: 0 } });
    expect(ended).toMatchObject({ state: JobState.SUCCEEDED, result: { exitCode: 0 } });
    // A second, genuine ending still loses.
    expect(await riding.transition('lost-answer', JobState.FAILED)).toBeNull();
  });

  it('creates a QUEUED record and stamps start and finish on transitions', async () => {
    const created = await records.create({
      id: 'r1',
      type: JobType.PULL,
      request: { reference: 'busybox' },
      team: 't',
    });
    expect(created).toMatchObject({
      id: 'r1',
      type: JobType.PULL,
      state: JobState.QUEUED,
      progress: null,
      startedAt: null,
      finishedAt: null,
      request: { reference: 'busybox' },
      result: null,
      error: null,
      team: 't',
      owner: null,
      attempts: 0,
    });
    await expect(records.create({ id: 'r1', type: JobType.PULL, request: {} })).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });

    const running = await records.transition('r1', JobState.RUNNING, { attempts: 1 });
    expect(running?.startedAt).toEqual(expect.any(String));
    expect(running?.finishedAt).toBeNull();
    expect(await redis.pttl(records.keys.record('r1'))).toBe(-1);

    const done = await records.transition('r1', JobState.SUCCEEDED, { result: { imageId: 'sha256:abc' }, progress: 1 });
    expect(done).toMatchObject({ state: JobState.SUCCEEDED, result: { imageId: 'sha256:abc' }, progress: 1 });
    expect(done?.finishedAt).toEqual(expect.any(String));
    expect(done?.startedAt).toBe(running?.startedAt);
    expect(await redis.pttl(records.keys.record('r1'))).toBeGreaterThan(50_000);

    // Ended is ended: later transitions and progress are refused.
    expect(await records.transition('r1', JobState.FAILED)).toBeNull();
    expect(await records.setProgress('r1', 0.5)).toBeNull();
    expect((await records.get('r1'))?.state).toBe(JobState.SUCCEEDED);
    await expect(records.require('nope')).rejects.toMatchObject({ code: ErrorCode.JOB_NOT_FOUND });
  });

  it('lets exactly one of several racing endings win', async () => {
    await records.create({ id: 'race', type: JobType.BUILD, request: {} });
    const racer = new JobRecordStore(other, { prefix });
    const outcomes = await Promise.all([
      records.transition('race', JobState.CANCELLED),
      racer.transition('race', JobState.FAILED),
      records.setProgress('race', 0.3),
      racer.transition('race', JobState.SUCCEEDED),
    ]);
    const endings = outcomes.filter((r) => r !== null && r.finishedAt !== null);
    expect(endings).toHaveLength(1);
    expect((await records.get('race'))?.state).toBe(endings[0]?.state);
  });

  it('lists newest first with filters and forgets expired records', async () => {
    const store = new JobRecordStore(redis, { prefix: `${prefix}:list` });
    const now = Date.now();
    for (const [id, type] of [
      ['a', JobType.PULL],
      ['b', JobType.BUILD],
      ['c', JobType.PULL],
      ['d', JobType.PULL],
    ] as const) {
      await store.create({ id, type, request: {} });
      // Distinct creation scores, so "newest first" is well defined.
      await redis.zadd(store.keys.index, now + { a: 1, b: 2, c: 3, d: 4 }[id], id);
    }
    await store.transition('c', JobState.RUNNING);
    await redis.del(store.keys.record('d'));

    expect((await store.list()).map((r) => r.id)).toEqual(['c', 'b', 'a']);
    expect((await store.list({ type: JobType.PULL })).map((r) => r.id)).toEqual(['c', 'a']);
    expect((await store.list({ state: JobState.QUEUED })).map((r) => r.id)).toEqual(['b', 'a']);
    expect((await store.list({ limit: 1 })).map((r) => r.id)).toEqual(['c']);
    expect(await redis.zrange(store.keys.index, 0, -1)).toEqual(['a', 'b', 'c']);
  });

  it('remembers a key once, atomically', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? records : new JobRecordStore(other, { prefix })).findOrRemember('k', `job-${i}`),
      ),
    );
    const winners = results.filter((r) => r === null);
    expect(winners).toHaveLength(1);
    const winner = `job-${results.indexOf(null)}`;
    expect(new Set(results.filter((r) => r !== null))).toEqual(new Set([winner]));

    expect(await records.forget('k', 'someone-else')).toBe(false);
    expect(await records.forget('k', winner)).toBe(true);
    expect(await records.findOrRemember('k', 'next')).toBeNull();
  });

  it('releases a dedup key when its job ends, not before', async () => {
    expect(await records.findOrRemember('dedup:pull busybox', 'd1')).toBeNull();
    await records.create({ id: 'd1', type: JobType.PULL, request: {}, dedupKey: 'dedup:pull busybox' });
    await records.transition('d1', JobState.RUNNING);
    expect(await records.findOrRemember('dedup:pull busybox', 'd2')).toBe('d1');

    await records.transition('d1', JobState.FAILED, { error: { code: 'X', message: 'x' } });
    expect(await records.findOrRemember('dedup:pull busybox', 'd3')).toBeNull();
  });

  it('flags cancel requests', async () => {
    await records.create({ id: 'c1', type: JobType.RUN, request: {} });
    expect(await records.isCancelRequested('c1')).toBe(false);
    await records.requestCancel('c1');
    expect(await records.isCancelRequested('c1')).toBe(true);
  });

  it("drops expired jobs from the index as new ones are created, so it holds the retention's jobs and not a week's", async () => {
    const short = new JobRecordStore(redis, { prefix: `${prefix}:short`, retentionMs: 100 });
    const open = await short.create({ id: 'still-open', type: JobType.PULL, request: {} });
    for (let i = 0; i < 5; i++) {
      const job = await short.create({ id: `ended-${i}`, type: JobType.PULL, request: {} });
      await short.transition(job.id, JobState.SUCCEEDED);
    }
    const deadline = Date.now() + 5_000;
    while ((await redis.exists(short.keys.record('ended-4'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    await short.create({ id: 'new', type: JobType.PULL, request: {} });
    expect((await redis.zrange(short.keys.index, 0, -1)).sort()).toEqual(['new', open.id]);
  });
});
