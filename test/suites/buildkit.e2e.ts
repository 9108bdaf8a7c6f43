import { DockerEngine } from '@drydock/docker';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { SEED_DOCKERFILE } from '../support/seed';
import { eventually, gql } from '../support/graphql';
import { api } from '../support/http';
import { expectGapless, readSse, readSseInto, tarContext, waitForJob, type JobEventJson, type JobJson } from '../support/jobs';

/** The BuildKit fields of a step and a LOG line, as SSE carries them (the stored event's JSON). */
interface BuildkitEvent extends Omit<JobEventJson, 'step' | 'result'> {
  stream: 'STDOUT' | 'STDERR' | null;
  step: { index: number; count: number; instruction: string; id: string | null; name: string | null; cached: boolean | null; startedAt: string | null; completedAt: string | null; error: string | null } | null;
  result: { imageId?: string; tags?: string[]; steps?: number; cachedSteps?: number } | null;
}


/** The last state of every step, by vertex. */
function finalSteps(events: BuildkitEvent[]): Map<string, NonNullable<BuildkitEvent['step']>> {
  const steps = new Map<string, NonNullable<BuildkitEvent['step']>>();
  for (const event of events) if (event.step?.id) steps.set(event.step.id, event.step);
  return steps;
}

describe('builds on BuildKit: steps, logs per step, logins, cache and failures', () => {
  let running: RunningApp;
  const ns = uniqueNamespace('e2e-buildkit');
  const repo = `${testEnv.registry}/${ns}/team-a`;
  const privateRepo = `${testEnv.authRegistry}/team-a/${ns}`;

  beforeAll(async () => {
    running = await startApp(
      { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      { tokens: [{ name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${repo}/**`, `${testEnv.authRegistry}/team-a/**`] }] },
    );
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
    removeImagesUnder(ns);
  });

  const builderA = () => running.tokens['builder-a'] as string;

  async function build(query: string, files: Record<string, string>): Promise<JobJson> {
    const res = await api(running, builderA()).post(`/v1/builds?${query}`).set('content-type', 'application/x-tar').send(await tarContext(files));
    expect(res.status).toBe(202);
    return res.body as JobJson;
  }

  async function events(job: JobJson, deadlineMs = 90_000): Promise<BuildkitEvent[]> {
    const { events: all } = await readSse(running.url, builderA(), job.id, {}, deadlineMs);
    expectGapless(all);
    return all as unknown as BuildkitEvent[];
  }

  it('says which builders the engine offers', async () => {
    const answer = await gql<{ engine: { builders: string[] } }>(running.url, '{ engine { builders } }', {}, running.auth);
    expect(answer.data?.engine.builders).toEqual(expect.arrayContaining(['BUILDKIT', 'LEGACY']));
  });

  it("builds the seed's image (-t twice, -f) on both builders to the same result", async () => {
    const files = { Dockerfile: 'FROM scratch\nBROKEN', 'docker/sinatra.Dockerfile': SEED_DOCKERFILE(testEnv.fixture) };
    const tags = (suffix: string) => `t=${encodeURIComponent(`${repo}/sinatra:v2-${suffix}`)}&t=${encodeURIComponent(`${repo}/sinatra:devel-${suffix}`)}`;
    const kit = await build(`${tags('kit')}&dockerfile=docker/sinatra.Dockerfile&builder=buildkit&nocache=true`, files);
    const legacy = await build(`${tags('legacy')}&dockerfile=docker/sinatra.Dockerfile&builder=LEGACY&nocache=true`, files);

    const kitEvents = await events(kit);
    expect(kitEvents.at(-1)?.state).toBe('SUCCEEDED');
    const names = [...finalSteps(kitEvents).values()].map((step) => step.name);
    expect(names).toEqual(expect.arrayContaining([`[1/3] FROM ${testEnv.fixture}`, '[2/3] RUN echo "installing ruby" && mkdir -p /app']));
    // The worker served the spooled context through the session's FileSync: the engine never stored and unpacked a tar body.
    expect(names).toEqual(expect.arrayContaining(['[internal] load .dockerignore']));
    expect(names.some((name) => /load remote build context|^copy \/context/.test(name ?? ''))).toBe(false);
    const run = [...finalSteps(kitEvents).values()].find((step) => step.name?.startsWith('[2/3] RUN'));
    expect(kitEvents).toContainEqual(expect.objectContaining({ kind: 'LOG', message: `#${run?.index} installing ruby`, stream: 'STDOUT' }));
    expect(kitEvents.find((e) => e.kind === 'RESULT')?.result).toMatchObject({ steps: expect.any(Number), cachedSteps: expect.any(Number) });
    expect(kitEvents.some((e) => e.message?.includes('moby.buildkit.trace'))).toBe(false);

    const [kitJob, legacyJob] = [await waitForJob(running.url, builderA(), kit.id), await waitForJob(running.url, builderA(), legacy.id)];
    expect(kitJob).toMatchObject({ state: 'SUCCEEDED', progress: 1, result: { tags: [`${repo}/sinatra:v2-kit`, `${repo}/sinatra:devel-kit`] } });
    expect(legacyJob).toMatchObject({ state: 'SUCCEEDED', result: { tags: [`${repo}/sinatra:v2-legacy`, `${repo}/sinatra:devel-legacy`] } });
    for (const tag of [`${repo}/sinatra:v2-kit`, `${repo}/sinatra:v2-legacy`]) {
      expect(docker('run', '--rm', '--network', 'none', tag)).toBe('gem install sinatra');
    }
    const config = (tag: string) => docker('image', 'inspect', '--format', '{{json .Config.Cmd}} {{.Author}}', tag);
    expect(config(`${repo}/sinatra:v2-kit`)).toBe(config(`${repo}/sinatra:v2-legacy`));
  });

  it('runs two independent stages at once, with a cache mount, and a second build reports every step cached', async () => {
    const dockerfile = [
      `FROM ${testEnv.fixture} AS a`,
      'RUN --mount=type=cache,target=/cache sleep 2 && echo a >> /cache/runs && cp /cache/runs /a',
      `FROM ${testEnv.fixture} AS b`,
      'RUN sleep 2 && echo b > /b',
      `FROM ${testEnv.fixture}`,
      'COPY --from=a /a /a',
      'COPY --from=b /b /b',
      'CMD ["cat", "/a", "/b"]',
    ].join('\n');
    // no-cache: the engine's cache outlives this suite, and cached steps take no time to overlap in.
    const first = await events(await build(`t=${encodeURIComponent(`${repo}/stages:1`)}&nocache=true`, { Dockerfile: dockerfile }));
    expect(first.at(-1)?.state).toBe('SUCCEEDED');
    const steps = [...finalSteps(first).values()];
    const runA = steps.find((step) => step.name?.startsWith('[a 2/2] RUN'));
    const runB = steps.find((step) => step.name?.startsWith('[b 2/2] RUN'));
    expect(runA?.startedAt && runA.completedAt && runB?.startedAt && runB.completedAt).toBeTruthy();
    // Overlap: each started before the other ended.
    expect(Date.parse(runA?.startedAt ?? '')).toBeLessThan(Date.parse(runB?.completedAt ?? ''));
    expect(Date.parse(runB?.startedAt ?? '')).toBeLessThan(Date.parse(runA?.completedAt ?? ''));
    expect(docker('run', '--rm', '--network', 'none', `${repo}/stages:1`)).toBe('a\nb');

    const second = await events(await build(`t=${encodeURIComponent(`${repo}/stages:2`)}`, { Dockerfile: dockerfile }));
    expect(second.at(-1)?.state).toBe('SUCCEEDED');
    // The Dockerfile's steps that do work (`[a 2/2] RUN ...`): BuildKit's other vertices (loading the
    // Dockerfile, the context upload, FROM metadata and images, the export) are done anew every
    // build, as `DOCKER_BUILDKIT=1 docker build` shows them (`DONE`, not `CACHED`).
    const own = [...finalSteps(second).values()].filter((step) => /^\[(\S+ )?\d+\/\d+\] (?!FROM )/.test(step.name ?? ''));
    expect(own.map((step) => step.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^\[a 2\/2\] RUN --mount=type=cache/), expect.stringMatching(/^\[b 2\/2\] RUN/)]));
    expect(own.length).toBeGreaterThanOrEqual(4);
    for (const step of own) expect({ name: step.name, cached: step.cached }).toEqual({ name: step.name, cached: true });
    const result = second.find((e) => e.kind === 'RESULT')?.result;
    expect(result?.cachedSteps).toBeGreaterThanOrEqual(own.length);
  });

  it("builds FROM the htpasswd registry with the team's login from the vault, and fails REGISTRY_UNAUTHORIZED with none stored", async () => {
    const host = testEnv.authRegistry;
    await api(running).put(`/v1/registries/${encodeURIComponent(host)}/credential`).send({ username: testEnv.authUser, password: testEnv.authPassword, team: 'team-a' }).expect(200);
    const engine = running.app.get(DockerEngine);
    docker('pull', testEnv.fixture);
    docker('tag', testEnv.fixture, `${privateRepo}/base:1`);
    for await (const _ of engine.images.push(`${privateRepo}/base`, '1', { auth: { username: testEnv.authUser, password: testEnv.authPassword, serveraddress: host } })) void _;
    docker('rmi', `${privateRepo}/base:1`);

    const dockerfile = `FROM ${privateRepo}/base:1\nRUN echo private-base`;
    const ok = await events(await build(`t=${encodeURIComponent(`${privateRepo}/app:1`)}&pull=true`, { Dockerfile: dockerfile }));
    expect(ok.at(-1)?.state).toBe('SUCCEEDED');

    await api(running).delete(`/v1/registries/${encodeURIComponent(host)}/credential`).query({ team: 'team-a' }).expect(204);
    docker('rmi', '-f', `${privateRepo}/app:1`);
    const refused = await events(await build(`t=${encodeURIComponent(`${privateRepo}/app:2`)}&pull=true&nocache=true`, { Dockerfile: dockerfile }));
    expect(refused.at(-1)?.state).toBe('FAILED');
    expect(refused.find((e) => e.kind === 'ERROR')?.error?.code).toBe('REGISTRY_UNAUTHORIZED');
  });

  it("reuses a pushed image's inline cache (cachefrom) once the engine's own build cache is gone", async () => {
    const marker = randomBytes(6).toString('hex');
    const dockerfile = `FROM ${testEnv.fixture}\nRUN echo ${marker} > /marker && sleep 1\nCMD ["cat", "/marker"]`;
    const ref = `${repo}/cached:${marker}`;
    const first = await events(await build(`t=${encodeURIComponent(ref)}`, { Dockerfile: dockerfile }));
    expect(first.at(-1)?.state).toBe('SUCCEEDED');
    const push = await api(running, builderA()).post(`/v1/images/${encodeURIComponent(ref)}/push`).send({}).expect(202);
    expect((await waitForJob(running.url, builderA(), push.body.id)).state).toBe('SUCCEEDED');

    // As on another engine: neither the image nor the build cache is here any more.
    docker('rmi', ref);
    docker('builder', 'prune', '--all', '--force');
    const second = await events(await build(`t=${encodeURIComponent(`${ref}-again`)}&cachefrom=${encodeURIComponent(ref)}`, { Dockerfile: dockerfile }));
    expect(second.at(-1)?.state).toBe('SUCCEEDED');
    const run = [...finalSteps(second).values()].find((step) => step.name?.startsWith('[2/2] RUN'));
    expect(run).toMatchObject({ cached: true });
    expect(docker('run', '--rm', '--network', 'none', `${ref}-again`)).toBe(marker);
  });

  it('fails a failing RUN BUILD_FAILED naming the step, ending with its output', async () => {
    const dockerfile = `FROM ${testEnv.fixture}\nRUN echo first-line && echo about-to-fail >&2 && false`;
    const failed = await events(await build(`t=${encodeURIComponent(`${repo}/fails:1`)}`, { Dockerfile: dockerfile }));
    expect(failed.at(-1)?.state).toBe('FAILED');
    const error = failed.find((e) => e.kind === 'ERROR')?.error;
    expect(error?.code).toBe('BUILD_FAILED');
    expect(error?.message).toContain('[2/2] RUN echo first-line && echo about-to-fail >&2 && false');
    // stdout and stderr are two pipes: BuildKit may report either line first.
    expect(error?.message.split('\n').slice(-2).sort()).toEqual(['about-to-fail', 'first-line']);
    expect(failed).toContainEqual(expect.objectContaining({ kind: 'LOG', stream: 'STDERR', message: expect.stringMatching(/^#\d+ about-to-fail$/) }));
    const step = [...finalSteps(failed).values()].find((s) => s.error);
    expect(step?.name).toBe('[2/2] RUN echo first-line && echo about-to-fail >&2 && false');
  });

  it('cancels mid-RUN: CANCELLED within 5 s, and no build step keeps running', async () => {
    const marker = `sleep ${600 + Math.floor(Math.random() * 300)}`;
    const dockerfile = `FROM ${testEnv.fixture}\nRUN echo started && ${marker}`;
    const job = await build(`t=${encodeURIComponent(`${repo}/cancel:1`)}&nocache=true`, { Dockerfile: dockerfile });
    const seen: JobEventJson[] = [];
    const reading = new AbortController();
    const following = readSseInto(running.url, builderA(), job.id, {}, seen, reading.signal);
    try {
      await eventually(async () => (seen.some((e) => e.kind === 'LOG' && /^#\d+ started$/.test(e.message ?? '')) ? true : undefined), 60_000, 'the RUN to start');
      const asked = Date.now();
      await api(running, builderA()).delete(`/v1/jobs/${job.id}`).expect((res) => expect(res.status).toBeLessThan(300));
      const ended = await waitForJob(running.url, builderA(), job.id, 5_000);
      expect(ended.state).toBe('CANCELLED');
      expect(Date.now() - asked).toBeLessThan(5_000);
      const processes = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.trim() === marker);
      await eventually(async () => (processes().length === 0 ? true : undefined), 5_000, `no "${marker}" left running`);
    } finally {
      reading.abort();
      await following;
    }
  });

  it("fails a Dockerfile that needs BuildKit on the legacy builder BUILD_FAILED, with the engine's message", async () => {
    const dockerfile = `FROM ${testEnv.fixture}\nRUN --mount=type=cache,target=/cache true`;
    const failed = await events(await build(`t=${encodeURIComponent(`${repo}/mount:1`)}&builder=legacy`, { Dockerfile: dockerfile }));
    expect(failed.at(-1)?.state).toBe('FAILED');
    const error = failed.find((e) => e.kind === 'ERROR')?.error;
    expect(error).toEqual({ code: 'BUILD_FAILED', message: expect.stringContaining('--mount') });
  });

  it('refuses secrets on the legacy builder and a malformed secret id, 400 before the context is read', async () => {
    for (const query of ['secret=npm&builder=legacy', 'secret=..%2Fetc', 'builder=kaniko']) {
      const res = await api(running, builderA())
        .post(`/v1/builds?t=${encodeURIComponent(`${repo}/refused:1`)}&${query}`)
        .set('content-type', 'application/x-tar')
        .send(await tarContext({ Dockerfile: `FROM ${testEnv.fixture}` }));
      expect({ query, status: res.status, code: res.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it("says which stream a container run's LOG lines came from", async () => {
    const res = await api(running, builderA()).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo to-out; echo to-err >&2'] });
    expect(res.status).toBe(202);
    const { events: all } = await readSse(running.url, builderA(), (res.body as JobJson).id);
    const lines = (all as unknown as BuildkitEvent[]).filter((e) => e.kind === 'LOG').map((e) => `${e.stream} ${e.message}`);
    expect(lines).toEqual(expect.arrayContaining(['STDOUT to-out', 'STDERR to-err']));
  });
});
