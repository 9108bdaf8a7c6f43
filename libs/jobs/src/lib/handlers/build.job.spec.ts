import { DrydockError, ErrorCode } from '@drydock/core';
import { Builder, type BuildkitMessage, type BuildkitOptions, type DockerEngine, type EngineMessage } from '@drydock/docker';
import { Readable } from 'node:stream';
import type { JobEmit } from '../emitter';
import { JobType } from '../model';
import { BuildJob, type BuildJobData } from './build.job';

const IMAGE_ID = `sha256:${'9c'.repeat(32)}`;

/** The engine's side of a one-step build: it records what it was asked to build and to tag. */
function fakeEngine() {
  const calls = { buildTags: [] as string[][], tagged: [] as string[] };
  const engine = {
    images: {
      async *build(_context: Readable, options: { tags: string[] }): AsyncGenerator<EngineMessage> {
        calls.buildTags.push(options.tags);
        yield { stream: 'Step 1/1 : FROM localhost:5001/drydock-fixture/busybox:1\n' };
        yield { aux: { ID: IMAGE_ID } };
        yield { stream: 'Successfully built 9c9c9c9c9c9c\n' };
      },
      tag: async (source: string, repository: string, tag: string) => void calls.tagged.push(`${source} ${repository}:${tag}`),
      inspect: async () => ({}),
    },
  } as unknown as DockerEngine;
  return { engine, calls };
}

function emitter(lines: string[]): JobEmit {
  return { log: (m) => void lines.push(m), progress: () => undefined, step: (_s, m) => void lines.push(m), drain: async () => undefined, congested: false };
}

const data: BuildJobData = { contextId: 'ctx', dockerfile: 'Dockerfile', tags: ['localhost:5001/team-a/app:1', 'localhost:5001/team-a/app:latest'], baseRegistries: [], team: 'team-a' };

function handle(stillOwned: () => Promise<boolean>) {
  const { engine, calls } = fakeEngine();
  const removed: string[] = [];
  const contexts = { open: async () => Readable.from([]), remove: async (id: string) => void removed.push(id) };
  const job = new BuildJob({ engine: () => engine }, { credentialFor: async () => null }, contexts, { limits: {} as never });
  const lines: string[] = [];
  const done = job.handle({ jobId: 'j', type: JobType.BUILD, data, engine: 'default', signal: new AbortController().signal, attempt: 1, emit: emitter(lines), stillOwned });
  return { done, calls, lines, removed };
}

describe('BuildJob', () => {
  it('builds untagged, then tags every tag once the attempt still holds the job, as docker build -t prints it', async () => {
    const { done, calls, lines } = handle(async () => true);
    await expect(done).resolves.toEqual({ imageId: IMAGE_ID, tags: data.tags });
    expect(calls.buildTags).toEqual([[]]);
    expect(calls.tagged).toEqual([`${IMAGE_ID} localhost:5001/team-a/app:1`, `${IMAGE_ID} localhost:5001/team-a/app:latest`]);
    expect(lines.slice(-2)).toEqual(['Successfully tagged localhost:5001/team-a/app:1', 'Successfully tagged localhost:5001/team-a/app:latest']);
  });

  it('moves no tag when the attempt lost the job while it built (its worker taken for dead, the job ended)', async () => {
    const { done, calls, removed } = handle(async () => false);
    await expect(done).rejects.toMatchObject({ code: ErrorCode.WORKER_LOST });
    expect(calls.tagged).toEqual([]);
    expect(removed).toEqual(['ctx']);
  });
});

/** A BuildKit engine: it asks the session for what the test names, then runs the trace it is given. */
function buildkitEngine(trace: BuildkitMessage[], failure?: Error, ask: { hosts?: string[]; secrets?: string[] } = {}) {
  const seen = { options: undefined as BuildkitOptions | undefined, logins: {} as Record<string, unknown>, secrets: {} as Record<string, string | null>, legacy: 0, tagged: 0, prunedAfterTags: [] as number[] };
  const engine = {
    images: {
      async *build(): AsyncGenerator<EngineMessage> {
        seen.legacy++;
        yield { aux: { ID: IMAGE_ID } };
      },
      async *buildKit(_context: Readable, options: BuildkitOptions): AsyncGenerator<BuildkitMessage> {
        seen.options = options;
        for (const host of ask.hosts ?? []) seen.logins[host] = await options.login?.(host);
        for (const id of ask.secrets ?? []) seen.secrets[id] = (await options.secret?.(id))?.toString() ?? null;
        yield* trace;
        if (failure) throw failure;
      },
      tag: async () => void seen.tagged++,
      inspect: async () => ({}),
      // Each prune notes how many tags were made before it.
      pruneSyncedContexts: async () => void seen.prunedAfterTags.push(seen.tagged),
    },
    system: { ping: async () => undefined },
  } as unknown as DockerEngine;
  return { engine, seen };
}

const BUILT: BuildkitMessage[] = [
  { kind: 'trace', vertexes: [{ digest: 'a', inputs: [], name: '[1/2] FROM localhost:5002/team-a/base:1', cached: true, startedAt: null, completedAt: 'now', error: null }], statuses: [], logs: [] },
  { kind: 'trace', vertexes: [{ digest: 'b', inputs: [], name: '[2/2] RUN make', cached: false, startedAt: 'then', completedAt: 'now', error: null }], statuses: [], logs: [] },
  { kind: 'image', id: IMAGE_ID },
];

function handleKit(engine: DockerEngine, jobData: Partial<BuildJobData>, path?: (id: string) => string) {
  const vault: Record<string, { username: string; password: string; serveraddress: string }> = {
    'localhost:5002': { username: 'team-a', password: 'base-pw', serveraddress: 'localhost:5002' },
    'cache.example': { username: 'team-a', password: 'cache-pw', serveraddress: 'cache.example' },
    'other.example': { username: 'team-a', password: 'other-pw', serveraddress: 'other.example' },
  };
  const credentials = { credentialFor: async (team: string | null, registry: string) => (team === 'team-a' ? vault[registry] ?? null : null) };
  const secrets = { secretFor: async (team: string | null, id: string) => (team === 'team-a' ? Buffer.from(`value of ${id}`) : null) };
  const context = Readable.from([Buffer.alloc(16)]);
  const contexts = { open: async () => context, remove: async () => undefined, ...(path ? { path } : {}) };
  // Pruned after each build, so a test sees the prune its build asked for.
  const job = new BuildJob({ engine: () => engine }, credentials, contexts, { limits: {} as never }, secrets, { idleMs: 60_000, maxBytes: Infinity, maxBuilds: 1 });
  const lines: string[] = [];
  const done = job.handle({
    jobId: 'j', type: JobType.BUILD, data: { ...data, ...jobData }, engine: 'default', signal: new AbortController().signal, attempt: 1, emit: emitter(lines), stillOwned: async () => true,
  });
  return { done, lines, context, job };
}

describe('BuildJob on BuildKit', () => {
  const kit = { builder: Builder.BUILDKIT, baseRegistries: ['localhost:5002'], cacheFrom: ['cache.example/team-a/app:cache'], secrets: ['npm-token'] };

  it('builds with inline cache and the cache sources asked, and reports how many steps ran and came from cache', async () => {
    const { engine, seen } = buildkitEngine(BUILT);
    const { done, job } = handleKit(engine, kit);
    await expect(done).resolves.toEqual({ imageId: IMAGE_ID, tags: data.tags, steps: 2, cachedSteps: 1 });
    await job.syncedContexts.settled();
    expect(seen.options).toMatchObject({ dockerfile: 'Dockerfile', inlineCache: true, cacheFrom: ['cache.example/team-a/app:cache'], noCache: false, pull: false });
    expect(seen.legacy).toBe(0);
    // The context BuildKit synced is dropped from the engine's cache once the image is tagged, not while it is.
    expect(seen.prunedAfterTags).toEqual([data.tags.length]);
  });

  it("hands BuildKit the spooled context's file where the context store has one, for the session's FileSync", async () => {
    const { engine, seen } = buildkitEngine(BUILT);
    await handleKit(engine, kit, (id) => `/spool/${id}.tar`).done;
    expect(seen.options?.contextFile).toBe('/spool/ctx.tar');
    const without = buildkitEngine(BUILT);
    await handleKit(without.engine, kit).done;
    expect(without.seen.options?.contextFile).toBeUndefined();
  });

  it("answers a login only for the registries the build reads, with the team's own", async () => {
    const { engine, seen } = buildkitEngine(BUILT, undefined, { hosts: ['localhost:5002', 'cache.example', 'other.example'] });
    await handleKit(engine, kit).done;
    expect(seen.logins).toEqual({
      'localhost:5002': { username: 'team-a', password: 'base-pw' },
      'cache.example': { username: 'team-a', password: 'cache-pw' },
      'other.example': null,
    });
  });

  it('hands out only the secrets the job names', async () => {
    const { engine, seen } = buildkitEngine(BUILT, undefined, { secrets: ['npm-token', 'someone-elses'] });
    await handleKit(engine, kit).done;
    expect(seen.secrets).toEqual({ 'npm-token': 'value of npm-token', 'someone-elses': null });
  });

  it('fails BUILD_FAILED naming the failing step and ending with its output', async () => {
    const failing: BuildkitMessage[] = [
      { kind: 'trace', vertexes: [{ digest: 'r', inputs: [], name: '[build 2/3] RUN false', cached: false, startedAt: 'then', completedAt: 'now', error: 'exit code: 1' }], statuses: [], logs: [{ vertex: 'r', stream: 'STDERR', data: Buffer.from('no such thing\n') }] },
    ];
    const { engine } = buildkitEngine(failing, new DrydockError(ErrorCode.BUILD_FAILED, 'failed to solve: exit code: 1'));
    const { done, lines, context } = handleKit(engine, kit);
    await expect(done).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED, message: '[build 2/3] RUN false: exit code: 1\nno such thing' });
    expect(lines).toContain('#1 no such thing');
    // The engine never read the context: the spool file is closed all the same.
    expect(context.destroyed).toBe(true);
  });

  it('builds a job queued before BuildKit builds (no builder) on the legacy builder', async () => {
    const { engine, seen } = buildkitEngine(BUILT);
    await expect(handleKit(engine, { builder: undefined }).done).resolves.toEqual({ imageId: IMAGE_ID, tags: data.tags });
    expect(seen.legacy).toBe(1);
    expect(seen.options).toBeUndefined();
  });
});
