import type { Redis } from 'ioredis';
import { collect, connectTestRedis, removeKeys, testPrefix, waitFor } from '../testing/redis';
import { JobEventBus } from './event-bus';
import { JobEventStore } from './event-store';
import { type JobEvent, JobEventKind, type JobRecord, JobState, JobType } from './model';
import { JobRecordStore } from './record-store';

const prefix = testPrefix();
const connections: Redis[] = [];
const buses: JobEventBus[] = [];

function connection(): Redis {
  const redis = connectTestRedis();
  connections.push(redis);
  return redis;
}

function bus(store: JobEventStore, redis = connection(), options: ConstructorParameters<typeof JobEventBus>[2] = {}): JobEventBus {
  const created = new JobEventBus(redis, store, options);
  buses.push(created);
  return created;
}

/** A replay that lets the test write while the follower is between subscribing and reading. */
class SeamStore extends JobEventStore {
  beforeRead: (() => Promise<void>) | undefined;
  afterRead: (() => Promise<void>) | undefined;

  override async range(jobId: string, fromSequence?: number, limit?: number): Promise<JobEvent[]> {
    const before = this.beforeRead;
    const after = this.afterRead;
    this.beforeRead = this.afterRead = undefined;
    await before?.();
    const events = await super.range(jobId, fromSequence, limit);
    await after?.();
    return events;
  }
}

/** Counts what a replay reads from Redis. */
class CountingStore extends JobEventStore {
  reads: number[] = [];

  override async range(jobId: string, fromSequence?: number, limit?: number): Promise<JobEvent[]> {
    const events = await super.range(jobId, fromSequence, limit);
    this.reads.push(events.length);
    return events;
  }
}

const log = (message: string) => ({ kind: JobEventKind.LOG, message });
const end = { kind: JobEventKind.STATE, state: JobState.SUCCEEDED };
const sequences = (events: JobEvent[]) => events.map((e) => e.sequence);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

let writer: JobEventStore;

beforeAll(() => {
  writer = new JobEventStore(connection(), { prefix });
});

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await removeKeys(connections[0] as Redis, prefix);
  await Promise.all(connections.map((c) => c.quit()));
});

describe('JobEventBus.follow', () => {
  it('replays a finished job from 1 and ends at its terminal event', async () => {
    const jobId = 'finished';
    await writer.append(jobId, { kind: JobEventKind.STATE, state: JobState.QUEUED });
    await writer.append(jobId, log('hello'));
    await writer.append(jobId, end);

    const events = await collect(bus(writer).follow(jobId, 1));
    expect(sequences(events)).toEqual([1, 2, 3]);
    expect(events[2]).toMatchObject({ kind: JobEventKind.STATE, state: JobState.SUCCEEDED });
  });

  it('honours fromSequence', async () => {
    const jobId = 'from';
    for (let i = 0; i < 4; i++) await writer.append(jobId, log(`line ${i}`));
    await writer.append(jobId, end);

    expect(sequences(await collect(bus(writer).follow(jobId, 3)))).toEqual([3, 4, 5]);
  });

  it('joins a running job with no gap and no duplicate at the seam', async () => {
    const jobId = 'seam';
    const store = new SeamStore(connection(), { prefix });
    await writer.append(jobId, log('before 1'));
    await writer.append(jobId, log('before 2'));
    // Published after the follower subscribed but before it reads: in the replay AND in its buffer.
    store.beforeRead = async () => {
      await writer.append(jobId, log('overlap 3'));
      await writer.append(jobId, log('overlap 4'));
    };
    // Published after the read: only in the buffer.
    store.afterRead = async () => {
      await writer.append(jobId, log('buffered 5'));
    };

    const following = collect(bus(store).follow(jobId, 1));
    await waitFor('the buffered event', async () => (await writer.count(jobId)) === 5);
    await writer.append(jobId, log('live 6'));
    await writer.append(jobId, end);

    const events = await following;
    expect(sequences(events)).toEqual(oneTo(7));
    expect(events.map((e) => e.message).slice(0, 6)).toEqual([
      'before 1',
      'before 2',
      'overlap 3',
      'overlap 4',
      'buffered 5',
      'live 6',
    ]);
  });

  it('keeps order while writers race a follower that starts mid-way', async () => {
    const jobId = 'race';
    for (let i = 0; i < 10; i++) await writer.append(jobId, log(`early ${i}`));
    const writing = (async () => {
      for (let i = 0; i < 200; i++) await writer.append(jobId, log(`late ${i}`));
      await writer.append(jobId, end);
    })();

    const events = await collect(bus(writer).follow(jobId, 5));
    await writing;
    expect(sequences(events)).toEqual(oneTo(211).slice(4));
  });

  it('backfills from the store when a live event skips ahead', async () => {
    const jobId = 'gap';
    const redis = connections[0] as Redis;
    await writer.append(jobId, log('one'));
    const iterator = bus(writer).follow(jobId, 1)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ sequence: 1 });

    // Event 2 is stored but its publication is lost, as during a subscriber reconnect.
    const sequence = await redis.incr(writer.keys.eventCounter(jobId));
    const lost = { jobId, sequence, at: new Date().toISOString(), kind: JobEventKind.LOG, message: 'lost' };
    await redis.rpush(writer.keys.eventList(jobId), JSON.stringify(lost));
    await writer.append(jobId, log('three'));
    await writer.append(jobId, end);

    const rest: JobEvent[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.map((e) => [e.sequence, e.message])).toEqual([
      [2, 'lost'],
      [3, 'three'],
      [4, null],
    ]);
  });

  it('stops when its signal aborts, and when the bus closes', async () => {
    const controller = new AbortController();
    const aborted = collect(bus(writer).follow('never-ends', 1, controller.signal));
    controller.abort();
    await expect(aborted).resolves.toEqual([]);

    const own = new JobEventBus(connection(), writer);
    const following = collect(own.follow('never-ends', 1));
    await own.whenReady();
    await own.close();
    await expect(following).resolves.toEqual([]);
  });
});

describe('JobEventBus across processes', () => {
  it('delivers what a third connection appends to two buses on their own connections', async () => {
    const jobId = 'fan-out';
    const first = bus(new JobEventStore(connection(), { prefix }));
    const second = bus(new JobEventStore(connection(), { prefix }));
    const third = new JobEventStore(connection(), { prefix });

    const firstSees = collect(first.follow(jobId));
    const secondSees = collect(second.follow(jobId));
    await Promise.all([first.whenReady(), second.whenReady()]);
    for (let i = 0; i < 20; i++) await third.append(jobId, log(`line ${i}`));
    await third.append(jobId, end);

    expect(sequences(await firstSees)).toEqual(oneTo(21));
    expect(sequences(await secondSees)).toEqual(oneTo(21));
  });

  it('streams record changes to watchJobs, filtered', async () => {
    const records = new JobRecordStore(connection(), { prefix });
    const watcher = bus(writer);
    const controller = new AbortController();
    const seen: JobRecord[] = [];
    const watching = (async () => {
      for await (const record of watcher.watchJobs(controller.signal, { type: JobType.PULL })) {
        seen.push(record);
        if (record.state === JobState.SUCCEEDED) controller.abort();
      }
    })();
    await watcher.whenReady();

    await records.create({ id: 'watched-build', type: JobType.BUILD, request: {} });
    await records.create({ id: 'watched', type: JobType.PULL, request: { reference: 'busybox' } });
    await records.transition('watched', JobState.RUNNING);
    await records.transition('watched', JobState.SUCCEEDED);
    await watching;

    expect(seen.map((r) => [r.id, r.state])).toEqual([
      ['watched', JobState.QUEUED],
      ['watched', JobState.RUNNING],
      ['watched', JobState.SUCCEEDED],
    ]);
  });
});

describe('JobEventBus.follow on a long job and a slow reader', () => {
  it('replays a long job a page at a time, reading from the store only as far as the caller has asked', async () => {
    const jobId = 'paged';
    for (let i = 0; i < 1234; i++) await writer.append(jobId, log(`line ${i}`));
    await writer.append(jobId, end);
    const store = new CountingStore(connection(), { prefix });
    const follower = bus(store, connection(), { pageSize: 100 }).follow(jobId);
    const first: JobEvent[] = [];
    for (let i = 0; i < 150; i++) first.push((await follower.next()).value as JobEvent);
    expect(sequences(first)).toEqual(oneTo(150));
    expect(store.reads.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(200);
    const rest = await collect({ [Symbol.asyncIterator]: () => follower });
    expect(sequences([...first, ...rest])).toEqual(oneTo(1235));
    expect(Math.max(...store.reads)).toBeLessThanOrEqual(100);
  });

  it('lets live events pile up only to its limit for a caller that does not read, then re-reads the store: nothing is lost', async () => {
    const jobId = 'slow-reader';
    await writer.append(jobId, log('first'));
    const store = new CountingStore(connection(), { prefix });
    const follower = bus(store, connection(), { pageSize: 10, inboxLimit: 5 }).follow(jobId);
    expect(((await follower.next()).value as JobEvent).sequence).toBe(1);
    const readsBefore = store.reads.length;
    for (let i = 0; i < 100; i++) await writer.append(jobId, log(`live ${i}`));
    await writer.append(jobId, end);
    const rest = await collect({ [Symbol.asyncIterator]: () => follower });
    expect(sequences(rest)).toEqual(oneTo(102).slice(1));
    // The missed events came from the store, not from a hundred held in memory.
    expect(store.reads.length).toBeGreaterThan(readsBefore);
  });

  it('ends at once a follow that resumes after the terminal event of an ended job', async () => {
    const jobId = 'resumed-after-end';
    await writer.append(jobId, log('only'));
    await writer.append(jobId, end);
    await expect(collect(bus(writer).follow(jobId, 3))).resolves.toEqual([]);
  });

  it('reads a sequence past any a job can have as the end of the stored events, not as a Redis error', async () => {
    const jobId = 'far';
    await writer.append(jobId, log('only'));
    await expect(writer.range(jobId, 1e308)).resolves.toEqual([]);
    await expect(writer.range(jobId, Number.POSITIVE_INFINITY)).resolves.toEqual([]);
  });
});
