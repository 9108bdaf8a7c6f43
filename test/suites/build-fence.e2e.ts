import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { api } from '../support/http';
import { readSse, waitForJob, type JobJson } from '../support/jobs';

const MEMORY = 256 * 1024 ** 2;

describe('builds are fenced like runs, and read only what the team may read', () => {
  const ns = uniqueNamespace('e2e-fence');
  const own = `${testEnv.registry}/${ns}-a`;
  const other = `${testEnv.registry}/${ns}-b`;
  let running: RunningApp;
  let builderA: string;

  beforeAll(async () => {
    running = await startApp(
      {
        DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
        DRYDOCK_BUILD_MEMORY_BYTES: String(MEMORY),
        DRYDOCK_BUILD_NANO_CPUS: '500000000',
        DRYDOCK_BUILD_NPROC: '77',
        DRYDOCK_BUILD_NOFILE: '1234',
        DRYDOCK_BUILD_TIMEOUT_SECONDS: '5',
      },
      { tokens: [{ name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${own}/**`] }] },
    );
    builderA = running.tokens['builder-a'] as string;
  });
  afterAll(async () => {
    removeImagesUnder(ns);
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  const jobCount = async () => ((await api(running, builderA).get('/v1/jobs').query({ limit: 500 }).expect(200)).body as JobJson[]).length;

  it.each([
    ['FROM names another team\'s repository', `FROM ${other}/base:1`, false, `${other}/base:1`],
    ['FROM names it through a build arg', 'ARG BASE\nFROM ${BASE}', false, `${other}/via-arg:2`],
    ['COPY --from names another team\'s image', `FROM ${testEnv.fixture}\nCOPY --from=${other}/data:3 /x /x`, false, `${other}/data:3`],
    ['pull would refresh a base outside its namespaces', `FROM ${testEnv.fixture}`, true, testEnv.fixture],
  ])('refuses a build whose %s with 403 naming the image, and queues nothing', async (_name, dockerfile, pull, image) => {
    const before = await jobCount();
    const response = await api(running, builderA)
      .post('/v1/builds')
      .send({ dockerfile, tags: [`${own}/app:1`], pull, buildArgs: { BASE: `${other}/via-arg:2` } })
      .expect(403);
    expect(response.body.code).toBe('FORBIDDEN');
    expect(response.body.detail).toContain(image);
    expect(await jobCount()).toBe(before);
  });

  it('builds FROM a local image outside its namespaces without pulling, and FROM its own namespace', async () => {
    await api(running, builderA).post('/v1/builds').send({ dockerfile: `FROM ${testEnv.fixture}\nLABEL ok=1`, tags: [`${own}/app:2`] }).expect(202);
    const missingOwn = await api(running, builderA)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${own}/not-pushed:1`, tags: [`${own}/app:3`] })
      .expect(202);
    const job = await waitForJob(running.url, builderA, missingOwn.body.id);
    // Its own repository may be pulled: the engine tried, and the registry has no such image.
    expect(job.state).toBe('FAILED');
  });

  const FENCE_PROBE = [
    `FROM ${testEnv.fixture}`,
    'RUN echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"' +
      ' && echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)"' +
      ' && echo "nproc=$(ulimit -u) nofile=$(ulimit -n)" && echo "net=$(ls /sys/class/net | tr "\\n" " ")"',
  ].join('\n');

  async function probeFence(builder: 'LEGACY' | 'BUILDKIT', tag: string): Promise<string> {
    const accepted = await api(running, builderA).post('/v1/builds').send({ dockerfile: FENCE_PROBE, tags: [`${own}/${tag}`], noCache: true, builder }).expect(202);
    const job = await waitForJob(running.url, builderA, accepted.body.id);
    const { events } = await readSse(running.url, builderA, accepted.body.id);
    expect(job.state).toBe('SUCCEEDED');
    return events.map((event) => event.message ?? '').join('\n');
  }

  it('runs each RUN step of a legacy build under the build fence: memory, CPU, ulimits and no network', async () => {
    const log = await probeFence('LEGACY', 'fenced:1');
    expect(log).toContain(`memory=${MEMORY}`);
    expect(log).toMatch(/cpu=(50000|50000 100000)\b/);
    expect(log).toContain('nproc=77 nofile=1234');
    expect(log).toMatch(/net=lo\s*$/m);
  });

  // The engine's embedded BuildKit (20.10) takes no memory, CPU or ulimit per build: the network is what it fences.
  it('runs each RUN step of a BuildKit build without a network', async () => {
    const log = await probeFence('BUILDKIT', 'fenced:2');
    expect(log).toMatch(/^#\d+ net=lo\s*$/m);
  });

  it('stops a build past its time limit: FAILED JOB_TIMEOUT, and no build container left', async () => {
    const marker = `${ns}-sleeper`;
    const started = Date.now();
    const accepted = await api(running, builderA)
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo ${marker} && sleep 600`, tags: [`${own}/sleepy:1`], noCache: true })
      .expect(202);
    const job = await waitForJob(running.url, builderA, accepted.body.id, 60_000);
    expect(job).toMatchObject({ state: 'FAILED', error: { code: 'JOB_TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(45_000);
    await eventually(
      async () => (docker('ps', '-a', '--no-trunc', '--format', '{{.Command}}').includes(marker) ? undefined : true),
      30_000,
      'the build container to be removed',
    );
  });
});
