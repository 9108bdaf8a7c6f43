import type { Redis } from 'ioredis';
import { connectTestRedis, removeKeys, testPrefix } from '../testing/redis';
import { JobState, JobType } from './model';
import { JobRecordStore, type JobFilter, type JobPage } from './record-store';

const prefix = testPrefix();
let redis: Redis;
let store: JobRecordStore;
// Recent: creating a job trims index entries older than the retention horizon.
const T0 = Date.now() - 60_000;

beforeAll(() => {
  redis = connectTestRedis();
});
beforeEach(async () => {
  await removeKeys(redis, prefix);
  store = new JobRecordStore(redis, { prefix });
});
afterAll(async () => {
  await removeKeys(redis, prefix);
  await redis.quit();
});

/** A job whose creation score is `T0 + atMs` (several may share one millisecond). */
async function job(id: string, atMs: number, extra: { type?: JobType; team?: string; engine?: string } = {}): Promise<void> {
  await store.create({ id, type: extra.type ?? JobType.RUN, request: {}, team: extra.team ?? 't', engine: extra.engine ?? 'default' });
  await redis.zadd(store.keys.index, T0 + atMs, id);
}

/** Every page from the first, following `next`, and how many pages it took. */
async function everyPage(filter: JobFilter, between: (page: JobPage) => Promise<void> = async () => undefined, budget?: number) {
  const ids: string[] = [];
  const pages: string[][] = [];
  let page = await store.page(filter, budget);
  for (;;) {
    pages.push(page.items.map((r) => r.id));
    ids.push(...page.items.map((r) => r.id));
    if (!page.next) return { ids, pages };
    await between(page);
    page = await store.page({ ...filter, after: page.next }, budget);
    if (pages.length > 50) throw new Error('paging does not end');
  }
}

describe('JobRecordStore paging', () => {
  it('pages every job exactly once, newest first, ties broken by id, while newer jobs arrive', async () => {
    // Three jobs share one millisecond, so a page boundary falls inside a tie.
    for (const [id, at] of [['a', 1], ['b', 2], ['c', 3], ['d', 3], ['e', 3], ['f', 4], ['g', 5]] as const) await job(id, at);
    let added = 0;
    const { ids, pages } = await everyPage({ limit: 3 }, async () => {
      await job(`new-${added}`, 100 + added);
      added++;
    });
    expect(ids).toEqual(['g', 'f', 'e', 'd', 'c', 'b', 'a']);
    expect(pages).toEqual([['g', 'f', 'e'], ['d', 'c', 'b'], ['a']]);
  });

  it('ends with no cursor when the last job is on the page, and keeps none for an empty index', async () => {
    for (const [id, at] of [['a', 1], ['b', 2], ['c', 3]] as const) await job(id, at);
    expect((await store.page({ limit: 3 })).next).toBeNull();
    expect((await store.page({ limit: 2 })).next).toEqual({ createdAtMs: T0 + 2, id: 'b' });
    await removeKeys(redis, prefix);
    expect(await store.page({})).toEqual({ items: [], next: null });
  });

  it('skips nothing when a job on an earlier page expires before the next page is read', async () => {
    for (const [id, at] of [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5]] as const) await job(id, at);
    const first = await store.page({ limit: 2 });
    await redis.del(store.keys.record('e'), store.keys.record('d'));
    const second = await store.page({ limit: 2, ...(first.next ? { after: first.next } : {}) });
    expect(second.items.map((r) => r.id)).toEqual(['c', 'b']);
  });

  it('combines type, state, team, engine and a creation-time window with the cursor', async () => {
    await job('pull-old', 1, { type: JobType.PULL });
    await job('pull-a', 2, { type: JobType.PULL });
    await job('pull-b-engine', 3, { type: JobType.PULL, engine: 'b' });
    await job('pull-team-2', 4, { type: JobType.PULL, team: 't2' });
    await job('build', 5, { type: JobType.BUILD });
    await job('pull-c', 6, { type: JobType.PULL });
    await job('pull-running', 7, { type: JobType.PULL });
    await job('pull-new', 9, { type: JobType.PULL });
    await store.transition('pull-running', JobState.RUNNING);
    const filter: JobFilter = { type: JobType.PULL, state: JobState.QUEUED, team: 't', engine: 'default', sinceMs: T0 + 2, untilMs: T0 + 8, limit: 1 };
    expect((await everyPage(filter)).ids).toEqual(['pull-c', 'pull-a']);
    expect((await everyPage({ engine: 'b' })).ids).toEqual(['pull-b-engine']);
    expect((await everyPage({ team: 't2' })).ids).toEqual(['pull-team-2']);
    // A cursor from before the window starts at the window's end instead.
    expect((await store.page({ untilMs: T0 + 4, after: { createdAtMs: T0 + 9, id: 'pull-new' } })).items.map((r) => r.id)).toEqual([
      'pull-team-2',
      'pull-b-engine',
      'pull-a',
      'pull-old',
    ]);
  });

  it('looks at a bounded number of index entries per page, answering a short page with a cursor to go on', async () => {
    await job('wanted-old', 1, { type: JobType.EXPORT });
    for (let i = 0; i < 12; i++) await job(`noise-${String(i).padStart(2, '0')}`, 10 + i);
    await job('wanted-new', 50, { type: JobType.EXPORT });
    const first = await store.page({ type: JobType.EXPORT, limit: 10 }, 5);
    expect(first.items.map((r) => r.id)).toEqual(['wanted-new']);
    expect(first.next).toEqual({ createdAtMs: T0 + 18, id: 'noise-08' });
    const { ids, pages } = await everyPage({ type: JobType.EXPORT, limit: 10 }, undefined, 5);
    expect(ids).toEqual(['wanted-new', 'wanted-old']);
    expect(pages.length).toBeGreaterThan(2);
  });
});
