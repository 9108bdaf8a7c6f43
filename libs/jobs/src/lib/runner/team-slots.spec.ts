import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@drydock/core';
import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../../testing/redis';
import { JobState, JobType } from '../model';
import { JobRecordStore } from '../record-store';
import { TeamSlots } from './team-slots';

let redis: Redis;
let prefix: string;
let records: JobRecordStore;
let slots: TeamSlots;

beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = testPrefix();
  records = new JobRecordStore(redis, { prefix });
  slots = new TeamSlots(redis, records);
});
afterEach(() => removeKeys(redis, prefix));

/** A job as enqueue makes it: its waiting place reserved, then its record. */
async function queued(team: string, type = JobType.BUILD): Promise<{ id: string; type: JobType; team: string }> {
  const job = { id: randomUUID(), type, team };
  await slots.reserveWaiting(job, 100);
  await records.create({ id: job.id, type, request: {}, team });
  return job;
}

describe('TeamSlots', () => {
  it('refuses the waiting job past the limit with QUEUE_FULL and a Retry-After, for that team only', async () => {
    for (let i = 0; i < 3; i++) await slots.reserveWaiting({ id: randomUUID(), type: JobType.PULL, team: 'a' }, 3);
    await expect(slots.reserveWaiting({ id: randomUUID(), type: JobType.BUILD, team: 'a' }, 3)).rejects.toMatchObject({
      code: ErrorCode.QUEUE_FULL,
      retryAfterSeconds: expect.any(Number),
    });
    await expect(slots.reserveWaiting({ id: randomUUID(), type: JobType.PULL, team: 'b' }, 3)).resolves.toBeUndefined();
  });

  it('never lets concurrent enqueues past the waiting limit', async () => {
    const tries = Array.from({ length: 40 }, () =>
      slots.reserveWaiting({ id: randomUUID(), type: JobType.RUN, team: 'a' }, 10).then(
        () => true,
        () => false,
      ),
    );
    expect((await Promise.all(tries)).filter(Boolean)).toHaveLength(10);
  });

  it('counts a place again once the job holding it has ended', async () => {
    const first = await queued('a');
    for (let i = 1; i < 100; i++) await queued('a');
    await expect(slots.reserveWaiting({ id: randomUUID(), type: JobType.BUILD, team: 'a' }, 100)).rejects.toMatchObject({
      code: ErrorCode.QUEUE_FULL,
    });
    // Ended without its release (the process died in between): the full team's script drops it.
    await records.transition(first.id, JobState.CANCELLED);
    await expect(slots.reserveWaiting({ id: randomUUID(), type: JobType.BUILD, team: 'a' }, 100)).resolves.toBeUndefined();
  });

  it('gives a team at most its running limit, keeps a restarted job its slot, and frees a slot on release', async () => {
    const [one, two, three] = [await queued('a'), await queued('a'), await queued('a')];
    expect(await slots.acquireRunning(one, 2)).toBe(true);
    expect(await slots.acquireRunning(two, 2)).toBe(true);
    expect(await slots.acquireRunning(three, 2)).toBe(false);
    expect(await slots.acquireRunning(one, 2)).toBe(true);
    expect(await slots.acquireRunning(await queued('b'), 2)).toBe(true);
    await slots.releaseRunning(one);
    expect(await slots.acquireRunning(three, 2)).toBe(true);
  });

  it('frees the running slot of a job that ended without releasing it', async () => {
    const [one, two] = [await queued('a'), await queued('a')];
    expect(await slots.acquireRunning(one, 1)).toBe(true);
    await records.transition(one.id, JobState.FAILED);
    expect(await slots.acquireRunning(two, 1)).toBe(true);
  });

  it('shows each waiting job its 1-based position in its team and type, and none once it runs', async () => {
    const [one, two, three] = [await queued('a'), await queued('a'), await queued('a')];
    const pull = await queued('a', JobType.PULL);
    expect(await slots.positions([one, two, three, pull])).toEqual([1, 2, 3, 1]);
    await slots.acquireRunning(one, 5);
    await slots.release(two);
    expect(await slots.positions([one, two, three])).toEqual([null, null, 1]);
  });
});
