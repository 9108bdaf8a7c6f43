import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { Builder, DockerEngine, type BuildkitMessage, type BuildkitOptions, type BuildkitVertex } from '@drydock/docker';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';

/** The engine's BuildKit driven through libs/docker alone: the session, the trace, cancel. */

const engine = new DockerEngine({ dockerHost: process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock' });

/** A tar of one Dockerfile (and any extra files), as the build endpoint takes it. */
function contextOf(dockerfile: string): Readable {
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  execFileSync('sh', ['-c', 'cat > "$0/Dockerfile"', dir], { input: dockerfile });
  const tar = execFileSync('tar', ['-C', dir, '-c', '.']);
  execFileSync('rm', ['-rf', dir]);
  return Readable.from([tar]);
}

interface Outcome {
  vertexes: Map<string, BuildkitVertex>;
  logs: Map<string, string>;
  image: string | null;
  error: (Error & { code?: string }) | null;
}

async function build(dockerfile: string, options: BuildkitOptions = {}, onMessage?: (m: BuildkitMessage) => void): Promise<Outcome> {
  const outcome: Outcome = { vertexes: new Map(), logs: new Map(), image: null, error: null };
  try {
    for await (const message of engine.images.buildKit(contextOf(dockerfile), options)) {
      onMessage?.(message);
      if (message.kind === 'image') {
        outcome.image = message.id;
        continue;
      }
      for (const vertex of message.vertexes) outcome.vertexes.set(vertex.digest, vertex);
      for (const log of message.logs) {
        const name = outcome.vertexes.get(log.vertex)?.name ?? log.vertex;
        outcome.logs.set(name, (outcome.logs.get(name) ?? '') + log.data.toString('utf8'));
      }
    }
  } catch (error) {
    outcome.error = error as Error & { code?: string };
  }
  if (outcome.image) built.add(outcome.image);
  return outcome;
}

const named = (outcome: Outcome, prefix: string) => [...outcome.vertexes.values()].filter((v) => v.name.startsWith(prefix));

function processesRunning(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function until<T>(what: string, probe: () => T | undefined | false, deadlineMs: number): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const built = new Set<string>();

describe('BuildKit builds on the engine', () => {
  const ns = uniqueNamespace('e2e-bk-engine');
  const base = testEnv.fixture;
  const privateBase = `${testEnv.authRegistry}/${ns}/base:1`;

  beforeAll(async () => {
    await engine.images.tag(base, `${testEnv.authRegistry}/${ns}/base`, '1');
    const auth = { username: testEnv.authUser, password: testEnv.authPassword, serveraddress: testEnv.authRegistry };
    for await (const _ of engine.images.push(`${testEnv.authRegistry}/${ns}/base`, '1', { auth })) void _;
    // Only the registry has it now: a FROM must pull it through the session's login.
    docker('rmi', privateBase);
  });
  afterAll(() => {
    for (const id of built) {
      try {
        docker('rmi', '-f', id);
      } catch {
        // Shared with another build's result, or gone already.
      }
    }
    removeImagesUnder(ns);
  });

  it('offers BuildKit and the legacy builder on this engine', async () => {
    expect((await engine.system.info()).builders).toEqual([Builder.BUILDKIT, Builder.LEGACY]);
  });

  it('runs a multi-stage build with a cache mount, names its steps as BuildKit prints them, and reports them cached the second time', async () => {
    const dockerfile = [
      `FROM ${base} AS build`,
      `RUN --mount=type=cache,target=/cache echo ${ns} >> /cache/runs && cat /cache/runs > /built`,
      'RUN echo second-step > /second',
      `FROM ${base}`,
      'COPY --from=build /built /built',
    ].join('\n');
    const first = await build(dockerfile, { labels: { 'drydock.test': ns } });
    expect(first.error).toBeNull();
    expect(first.image).toMatch(/^sha256:/);
    const run = named(first, `[build 2/3] RUN --mount=type=cache,target=/cache echo ${ns}`);
    expect(run).toHaveLength(1);
    expect(run[0]).toMatchObject({ cached: false, error: null });
    expect(run[0]?.completedAt).not.toBeNull();
    expect(named(first, '[build 3/3] RUN echo second-step')).toHaveLength(1);
    expect(named(first, '[stage-1 2/2] COPY --from=build /built /built')).toHaveLength(1);
    expect(docker('image', 'inspect', '--format', '{{index .Config.Labels "drydock.test"}}', first.image as string)).toBe(ns);

    const second = await build(dockerfile, { labels: { 'drydock.test': ns } });
    expect(second.image).toBe(first.image);
    const steps = [...second.vertexes.values()].filter((v) => /^\[(build|stage-1) \d\/\d\] (RUN|COPY)/.test(v.name));
    expect(steps.map((v) => v.name).sort()).toEqual([...named(first, '[build 2'), ...named(first, '[build 3'), ...named(first, '[stage-1 2')].map((v) => v.name).sort());
    expect(steps.every((v) => v.cached)).toBe(true);
  });

  it('pulls a FROM from the htpasswd registry with the login the session hands out for that host, and fails without one', async () => {
    const dockerfile = `FROM ${privateBase}\nRUN echo private-ok`;
    const anonymous = await build(dockerfile, { noCache: true, login: async () => null });
    expect(anonymous.image).toBeNull();
    expect(anonymous.error?.code).toBe(ErrorCode.REGISTRY_UNAUTHORIZED);
    expect(anonymous.error?.message).toMatch(/401 Unauthorized|unauthorized/i);

    const asked: string[] = [];
    const authed = await build(dockerfile, {
      noCache: true,
      login: async (host) => {
        asked.push(host);
        return host === testEnv.authRegistry ? { username: testEnv.authUser, password: testEnv.authPassword } : null;
      },
    });
    expect(authed.error).toBeNull();
    expect(authed.image).toMatch(/^sha256:/);
    expect(new Set(asked)).toEqual(new Set([testEnv.authRegistry]));
    expect(authed.logs.get('[2/2] RUN echo private-ok')).toBe('private-ok\n');
  });

  it('mounts a secret the session serves by id, readable in the RUN and asked for that id only', async () => {
    const value = Buffer.from(`secret-${ns}-value`);
    const asked: string[] = [];
    const outcome = await build(`FROM ${base}\nRUN --mount=type=secret,id=npm_token wc -c < /run/secrets/npm_token`, {
      noCache: true,
      secret: async (id) => {
        asked.push(id);
        return id === 'npm_token' ? value : null;
      },
    });
    expect(outcome.error).toBeNull();
    expect(asked).toEqual(['npm_token']);
    expect(outcome.logs.get('[2/2] RUN --mount=type=secret,id=npm_token wc -c < /run/secrets/npm_token')?.trim()).toBe(String(value.length));
    expect(docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', outcome.image as string)).not.toContain(value.toString());
  });

  it('fails a build whose secret the session does not have, or has over BuildKit\'s 500 KiB cap', async () => {
    const dockerfile = `FROM ${base}\nRUN --mount=type=secret,id=missing,required cat /run/secrets/missing`;
    const missing = await build(dockerfile, { noCache: true, secret: async () => null });
    expect(missing.error).toMatchObject({ code: ErrorCode.BUILD_FAILED, message: expect.stringMatching(/secret missing not found/) });
    const huge = await build(dockerfile, { noCache: true, secret: async () => Buffer.alloc(500 * 1024 + 1) });
    expect(huge.error).toMatchObject({ code: ErrorCode.BUILD_FAILED, message: expect.stringMatching(/larger than 512000 bytes/) });
  });

  it("ends a failing RUN with BUILD_FAILED and the engine's message, the failing step carrying its error and output", async () => {
    const outcome = await build(`FROM ${base}\nRUN echo before-failing && exit 7`, { noCache: true });
    expect(outcome.error).toMatchObject({ code: ErrorCode.BUILD_FAILED, message: expect.stringMatching(/exit code: 7/) });
    const failing = [...outcome.vertexes.values()].filter((v) => v.error);
    expect(failing.map((v) => v.name)).toEqual(['[2/2] RUN echo before-failing && exit 7']);
    expect(outcome.logs.get('[2/2] RUN echo before-failing && exit 7')).toBe('before-failing\n');
  });

  it('sends /build without waiting for /session to answer, as the docker CLI does, and builds on that session', async () => {
    const requests: Array<{ operation: string; sentAt: number; answeredAt: number }> = [];
    const observed = new DockerEngine({
      dockerHost: process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock',
      onRequest: (operation, seconds) => {
        const answeredAt = performance.now();
        requests.push({ operation, sentAt: answeredAt - seconds * 1000, answeredAt });
      },
    });
    const outcome: Outcome = { vertexes: new Map(), logs: new Map(), image: null, error: null };
    for await (const message of observed.images.buildKit(contextOf(`FROM ${base}\nRUN echo overlapped`), { noCache: true })) {
      if (message.kind === 'image') outcome.image = message.id;
      else for (const log of message.logs) outcome.logs.set(log.vertex, log.data.toString('utf8'));
    }
    if (outcome.image) built.add(outcome.image);
    expect(outcome.image).toMatch(/^sha256:/);
    expect([...outcome.logs.values()]).toContain('overlapped\n');
    const session = requests.find((request) => request.operation === 'build.session');
    const build = requests.find((request) => request.operation === 'build');
    expect(build?.sentAt).toBeLessThan(session?.answeredAt ?? 0);
  });

  it('cancels a build mid-RUN within 5 s, and no step process keeps running', async () => {
    const marker = `sleep ${randomInt(700_000, 799_999)}`;
    const controller = new AbortController();
    const started = Date.now();
    let abortedAt = 0;
    const outcome = await build(`FROM ${base}\nRUN echo going-to-sleep && ${marker}`, { noCache: true, signal: controller.signal }, (message) => {
      if (abortedAt || message.kind !== 'trace') return;
      // Abort once the step's process is really running under the engine.
      if (message.logs.some((log) => log.data.toString().includes('going-to-sleep'))) {
        void until('the step process', () => processesRunning(marker).length > 0, 5_000).then(() => {
          abortedAt = Date.now();
          controller.abort();
        });
      }
    });
    expect(abortedAt).toBeGreaterThan(0);
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(outcome.error).toMatchObject({ code: ErrorCode.CANCELLED });
    await until('the step process to go', () => processesRunning(marker).length === 0, 5_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('stops the build at the engine when the consumer stops reading mid-RUN', async () => {
    const marker = `sleep ${randomInt(800_000, 899_999)}`;
    const generator = engine.images.buildKit(contextOf(`FROM ${base}\nRUN echo going-to-sleep && ${marker}`), { noCache: true });
    for await (const message of generator) {
      if (message.kind === 'trace' && message.logs.some((log) => log.data.toString().includes('going-to-sleep'))) break;
    }
    await until('the step process to go', () => processesRunning(marker).length === 0, 5_000);
  });

  it('answers a login provider that throws with a gRPC error: the build fails, the process stays up', async () => {
    const outcome = await build(`FROM ${privateBase}\nRUN true`, {
      noCache: true,
      login: async () => {
        throw new TypeError('vault exploded');
      },
    });
    expect(outcome.image).toBeNull();
    expect(outcome.error?.message).toMatch(/drydock could not answer a registry login/);
    expect(outcome.error?.message).not.toMatch(/vault exploded/);
  });

  async function buildBrokenAfter(ms: number): Promise<unknown> {
    const context = new Readable({ read: () => undefined });
    context.push(Buffer.alloc(10_240));
    setTimeout(() => context.destroy(new Error('upload cut')), ms);
    try {
      for await (const _ of engine.images.buildKit(context, {})) void _;
    } catch (caught) {
      return caught;
    }
    return undefined;
  }

  it("ends with the upload's own error when the context breaks while the session opens, the session closed at once without tripping Node's http2", async () => {
    // Closing an http2 session in the tick it was given the socket threw, uncaught, from Node's http2 core: ten tries catch that.
    for (let i = 0; i < 10; i++) {
      expect(await buildBrokenAfter(0)).toMatchObject({ message: 'upload cut' });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }, 15_000);

  it("ends with the upload's own error when the context breaks once the engine is reading it", async () => {
    const started = Date.now();
    expect(await buildBrokenAfter(300)).toMatchObject({ message: 'upload cut' });
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 15_000);
});
