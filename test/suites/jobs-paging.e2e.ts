import { startApp, type RunningApp } from '../support/app';
import { uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql, type GraphQLResponse } from '../support/graphql';
import { api } from '../support/http';
import { expectProblem } from '../support/problem';
import { waitForJob, type JobJson as BaseJobJson } from '../support/jobs';

type JobJson = BaseJobJson & { createdAt: string };

interface Page {
  ids: string[];
  next: string | null;
}

describe('jobs a client can page through: newest first, by cursor, with filters', () => {
  const ns = uniqueNamespace('e2e-paging');
  let running: RunningApp;
  const builderA = () => running.tokens['builder-a'] as string;
  /** team-a's jobs as created, oldest first. */
  const created: JobJson[] = [];
  let teamBJob: JobJson;

  const run = async (token: string, cmd: string[]): Promise<JobJson> => {
    const accepted = await api(running, token).post('/v1/containers').send({ image: testEnv.fixture, cmd }).expect(202);
    return accepted.body as JobJson;
  };
  /** What paging must answer: creation time, then id, both descending. */
  const newestFirst = (jobs: JobJson[]) =>
    [...jobs].sort((x, y) => y.createdAt.localeCompare(x.createdAt) || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0)).map((j) => j.id);

  /** One REST page; `next` is the Link header's target, which must carry the same cursor as X-Next-Cursor. */
  const restPage = async (path: string, token = builderA()): Promise<Page> => {
    const res = await api(running, token).get(path).expect(200);
    expect(Array.isArray(res.body)).toBe(true);
    const link = res.headers['link'] as string | undefined;
    const next = link ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? 'unparsable') : null;
    if (next) expect(new URL(next, running.url).searchParams.get('cursor')).toBe(res.headers['x-next-cursor']);
    else expect(res.headers['x-next-cursor']).toBeUndefined();
    return { ids: (res.body as JobJson[]).map((j) => j.id), next };
  };
  const everyRestPage = async (first: string, token = builderA(), between: () => Promise<void> = async () => undefined) => {
    const pages: string[][] = [];
    let page = await restPage(first, token);
    for (;;) {
      pages.push(page.ids);
      if (!page.next) return pages;
      expect(pages.length).toBeLessThan(20);
      await between();
      page = await restPage(page.next, token);
    }
  };

  beforeAll(async () => {
    // builder-a may pull the fixture's repository, so one job here is a PULL.
    const fixtureRepos = testEnv.fixture.replace(/\/[^/]+$/, '/**');
    running = await startApp(
      { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      {
        tokens: [
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${ns}/team-a/**`, fixtureRepos] },
          { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: [`${ns}/team-b/**`] },
        ],
      },
    );
    // Six runs (one fails) and a pull, one after the other so their creation times are ordered.
    for (const cmd of [['true'], ['true'], ['false'], ['true'], ['true'], ['true']]) created.push(await run(builderA(), cmd));
    const pulled = await api(running, builderA()).post('/v1/images/pull').send({ reference: testEnv.fixture }).expect(202);
    created.push(pulled.body as JobJson);
    teamBJob = await run(running.tokens['builder-b'] as string, ['true']);
    for (const job of [...created, teamBJob]) await waitForJob(running.url, running.token, job.id);
  });
  afterAll(async () => {
    await running.close();
  });

  it('pages REST by its Link header, three at a time, through every job exactly once, newest first, while new jobs arrive', async () => {
    const arrived: JobJson[] = [];
    const pages = await everyRestPage('/v1/jobs?limit=3', builderA(), async () => {
      arrived.push(await run(builderA(), ['true']));
    });
    expect(pages.slice(0, -1).every((ids) => ids.length === 3)).toBe(true);
    expect(pages.flat()).toEqual(newestFirst(created));
    // Arrivals are newer than the first page: they start the next listing, not this one.
    const fresh = await restPage('/v1/jobs?limit=3');
    expect(fresh.ids).toEqual([...newestFirst(arrived), ...newestFirst(created)].slice(0, 3));
    for (const job of arrived) await waitForJob(running.url, running.token, job.id);
  });

  it('pages GraphQL jobsPage by nextCursor, and jobs(...) takes the same cursor', async () => {
    const before = created.at(-1)?.createdAt as string;
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: GraphQLResponse<{ jobsPage: { items: Array<{ id: string }>; nextCursor: string | null } }> = await gql(
        running.url,
        'query($cursor: String, $until: String) { jobsPage(limit: 3, cursor: $cursor, until: $until) { items { id } nextCursor } }',
        { cursor, until: before },
        { authorization: `Bearer ${builderA()}` },
      );
      expect(res.errors).toBeUndefined();
      const page = res.data?.jobsPage;
      ids.push(...(page?.items.map((j) => j.id) ?? []));
      if (i === 0) {
        const listed = await gql<{ jobs: Array<{ id: string }> }>(
          running.url,
          'query($cursor: String) { jobs(limit: 3, cursor: $cursor) { id } }',
          { cursor: page?.nextCursor },
          { authorization: `Bearer ${builderA()}` },
        );
        expect(listed.data?.jobs.map((j) => j.id)).toEqual(newestFirst(created).slice(3, 6));
      }
      cursor = page?.nextCursor ?? null;
      if (!cursor) break;
    }
    expect(ids).toEqual(newestFirst(created));
  });

  it('filters by type, state, engine and creation time, and keeps the filters on the next link', async () => {
    const until = created.at(-1)?.createdAt as string;
    const ids = async (query: string) => (await everyRestPage(`/v1/jobs?until=${encodeURIComponent(until)}&${query}`)).flat();
    expect(await ids('type=PULL')).toEqual([created[6]?.id]);
    expect(await ids('state=FAILED&limit=1')).toEqual([created[2]?.id]);
    expect(await ids('type=RUN&state=SUCCEEDED&limit=2')).toEqual(newestFirst(created.filter((j, i) => j.type === 'RUN' && i !== 2)));
    expect(await ids('engine=default&limit=4')).toEqual(newestFirst(created));
    expect(await ids('engine=elsewhere')).toEqual([]);
    const since = created[4]?.createdAt as string;
    expect(await ids(`since=${encodeURIComponent(since)}&limit=1`)).toEqual(newestFirst(created.filter((j) => j.createdAt >= since)));
    const first = await restPage(`/v1/jobs?type=RUN&until=${encodeURIComponent(until)}&limit=2`);
    expect(new URL(first.next as string, running.url).searchParams.get('type')).toBe('RUN');
  });

  it("lets only admins name a team: another team's jobs are 403 to everyone else", async () => {
    expectProblem(await api(running, builderA()).get('/v1/jobs?team=team-b'), 403, 'FORBIDDEN');
    expect((await restPage('/v1/jobs?team=team-a&type=PULL')).ids).toEqual([created[6]?.id]);
    expect((await everyRestPage('/v1/jobs?team=team-b', running.token)).flat()).toEqual([teamBJob.id]);
    const everyone = (await everyRestPage('/v1/jobs?limit=500', running.token)).flat();
    expect(everyone).toEqual(expect.arrayContaining([teamBJob.id, ...created.map((j) => j.id)]));
    // Without `team`, a builder still sees only their own team's.
    expect((await everyRestPage('/v1/jobs?limit=500')).flat()).not.toContain(teamBJob.id);
    const viaGraphql = await gql(running.url, '{ jobsPage(team: "team-b") { items { id } } }', {}, { authorization: `Bearer ${builderA()}` });
    expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it.each([
    ['a cursor that is not base64url', 'cursor=not%20a%20cursor'],
    ['a forged cursor', `cursor=${Buffer.from('{"offset":0}').toString('base64url')}`],
    ['a cursor too long to be one', `cursor=${'A'.repeat(1000)}`],
    ['a time that is not ISO 8601', 'since=yesterday'],
    ['a window that ends before it starts', 'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z'],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_, query) => {
    expectProblem(await api(running, builderA()).get(`/v1/jobs?${query}`), 400, 'VALIDATION_FAILED');
  });

  it('refuses a malformed cursor over GraphQL as VALIDATION_FAILED, not an internal error', async () => {
    const res = await gql(running.url, '{ jobsPage(cursor: "%%%") { items { id } } }', {}, { authorization: `Bearer ${builderA()}` });
    expect(res.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});
