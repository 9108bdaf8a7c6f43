import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../../testing/redis';
import { JobState, JobType } from '../model';
import { JobRecordStore } from '../record-store';
import { ExclusiveLeases } from './exclusive-leases';

let redis: Redis;
let prefix: string;
let records: JobRecordStore;
let leases: ExclusiveLeases;

const KEY = 'push:localhost:5001/team/app';
const LEASE_MS = 10_000;

beforeAll(() => {
  redis = connectTestRedis();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = testPrefix();
  records = new JobRecordStore(redis, { prefix });
  leases = new ExclusiveLeases(redis, records);
});
afterEach(() => removeKeys(redis, prefix));

async function job(): Promise<string> {
  const id = randomUUID();
  await records.create({ id, type: JobType.PUSH, request: {}, team: 'a' });
  return id;
}

async function run(id: string): Promise<void> {
  await records.transition(id, JobState.RUNNING, { attempts: 1 });
}

describe('ExclusiveLeases', () => {
  it('lets one job hold a key and refuses the others, naming the holder and saying only the first refusal is new', async () => {
    const [a, b] = [await job(), await job()];
    await expect(leases.acquire(KEY, a, LEASE_MS)).resolves.toEqual({ held: true });
    await expect(leases.acquire(KEY, b, LEASE_MS)).resolves.toEqual({ held: false, holder: a, firstRefusal: true });
    await expect(leases.acquire(KEY, b, LEASE_MS)).resolves.toEqual({ held: false, holder: a, firstRefusal: false });
    await expect(leases.acquire('push:localhost:5001/team/other', b, LEASE_MS)).resolves.toEqual({ held: true });
  });

  it('gives the key back to the same job when it asks again (a job restarted after its worker died)', async () => {
    const a = await job();
    await leases.acquire(KEY, a, LEASE_MS);
    await expect(leases.acquire(KEY, a, LEASE_MS)).resolves.toEqual({ held: true });
  });

  it('answers the oldest waiting job still open on release, passing over one that ended meanwhile', async () => {
    const [a, b, c] = [await job(), await job(), await job()];
    await leases.acquire(KEY, a, LEASE_MS);
    await leases.acquire(KEY, b, LEASE_MS);
    await leases.acquire(KEY, c, LEASE_MS);
    await records.transition(b, JobState.CANCELLED);
    await expect(leases.release(KEY, a)).resolves.toBe(c);
    await expect(leases.holder(KEY)).resolves.toBeNull();
    await expect(leases.acquire(KEY, c, LEASE_MS)).resolves.toEqual({ held: true });
    await expect(leases.release(KEY, c)).resolves.toBeNull();
  });

  it('frees a key whose holder was killed once its lease lapses', async () => {
    const [a, b] = [await job(), await job()];
    await run(a);
    await leases.acquire(KEY, a, 150);
    await expect(leases.acquire(KEY, b, LEASE_MS)).resolves.toMatchObject({ held: false });
    // Nobody renews it: the worker holding it is gone.
    const deadline = Date.now() + 5_000;
    while ((await leases.holder(KEY)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await expect(leases.acquire(KEY, b, LEASE_MS)).resolves.toEqual({ held: true });
  });

  it('keeps a renewed lease past its first term, and renews only the holder', async () => {
    const [a, b] = [await job(), await job()];
    await leases.acquire(KEY, a, 300);
    await expect(leases.renew(KEY, b, LEASE_MS)).resolves.toBe(false);
    await expect(leases.renew(KEY, a, LEASE_MS)).resolves.toBe(true);
    expect(await redis.pttl(`{${prefix}}:lease:${KEY}`)).toBeGreaterThan(5_000);
  });

  it('does not let a job whose holder has ended or expired wait for it', async () => {
    const [a, b] = [await job(), await job()];
    await leases.acquire(KEY, a, LEASE_MS);
    await records.transition(a, JobState.FAILED);
    await expect(leases.acquire(KEY, b, LEASE_MS)).resolves.toEqual({ held: true });
    await redis.del(`{${prefix}}:job:${b}`);
    const c = await job();
    await expect(leases.acquire(KEY, c, LEASE_MS)).resolves.toEqual({ held: true });
  });

  it('does not release a key another job took after its own lease lapsed', async () => {
    const [a, b] = [await job(), await job()];
    await leases.acquire(KEY, a, LEASE_MS);
    await redis.del(`{${prefix}}:lease:${KEY}`);
    await leases.acquire(KEY, b, LEASE_MS);
    await leases.release(KEY, a);
    await expect(leases.holder(KEY)).resolves.toBe(b);
  });
});
