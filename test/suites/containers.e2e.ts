import { execFileSync } from 'node:child_process';
import { ContainerSweeper } from '../../apps/api/src/app/containers/sweeper';
import { startApp, type RunningApp } from '../support/app';
import { docker, dockerBuild, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, gql, wsClient, type GraphQLResponse } from '../support/graphql';
import { expectProblem } from '../support/problem';
import { api } from '../support/http';
import { expectGapless, JOB_EVENT_FIELDS, readSse, waitForJob, type JobEventJson, type JobJson } from '../support/jobs';

/**
 * The seed's "update and commit" path over the API (run a command in a
 * container, commit it with message and author, run the new image, push it),
 * and the fence around it: what a request may not ask for, and which
 * containers Drydock will not touch. Against the real engine and registry.
 */

interface ContainerJson {
  id: string;
  shortId: string;
  image: string;
  state: string;
  running: boolean;
  exitCode: number | null;
  jobId: string | null;
  team: string | null;
  owner: string | null;
  labels: Array<{ key: string; value: string }>;
}

interface EngineInspect {
  Id: string;
  State: { Status: string; Running: boolean; ExitCode: number };
  Config: { Labels: Record<string, string> | null; Image: string };
  HostConfig: {
    Privileged: boolean;
    NetworkMode: string;
    Memory: number;
    NanoCpus: number;
    PidsLimit: number | null;
    Binds: string[] | null;
    Mounts?: unknown[] | null;
    Devices: unknown[] | null;
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    SecurityOpt: string[] | null;
    PidMode: string;
    IpcMode: string;
  };
  Mounts: unknown[];
}

const DRYDOCK_LABEL = 'io.drydock.managed';
const enc = encodeURIComponent;
const RUN = `mutation($input: RunContainerInput!) { runContainer(input: $input) { id type state } }`;
const JOB_EVENTS = `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`;

function expectGqlError(res: GraphQLResponse<unknown>, code: string): void {
  expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
}

function engineInspect(id: string): EngineInspect {
  return (JSON.parse(docker('container', 'inspect', id)) as EngineInspect[])[0] as EngineInspect;
}

function containerExists(id: string): boolean {
  try {
    // Quietly: "No such container" is the expected answer half the time.
    execFileSync('/usr/bin/docker', ['container', 'inspect', '--format', '{{.Id}}', id], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** The fixture is shared by every suite; one may have removed it locally. It is in the registry. */
function ensureFixture(): void {
  try {
    docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture);
  } catch {
    docker('pull', '-q', testEnv.fixture);
  }
}

describe('containers: run, stream, commit, push, and the fence', () => {
  const ns = uniqueNamespace('e2e-containers');
  const repo = `${testEnv.registry}/${ns}/sinatra`;
  /**
   * An image of this suite's own (not just a tag: `ancestor=` goes by image id): the fence's requests
   * name it, so `docker ps --filter ancestor=` shows whether any of them made a container.
   */
  const probe = `${ns}/probe:1`;
  let running: RunningApp;
  const foreign: string[] = [];
  const jobs: string[] = [];

  const admin = () => api(running);
  const as = (name: string) => api(running, running.tokens[name]);
  const query = <T = Record<string, unknown>>(text: string, variables: Record<string, unknown> = {}, token = running.token) =>
    gql<T>(running.url, text, variables, { authorization: `Bearer ${token}` });

  /** POST /v1/containers, expecting 202; answers the queued job. */
  async function run(body: Record<string, unknown>, token = running.token): Promise<JobJson> {
    const res = await api(running, token).post('/v1/containers').send(body);
    expect(res.status).toBe(202);
    jobs.push(res.body.id);
    return res.body as JobJson;
  }

  /** The container a RUN job made, found by its job label. */
  async function containerOf(jobId: string, token = running.token): Promise<ContainerJson> {
    return eventually(
      async () => {
        const res = await api(running, token).get('/v1/containers').query({ all: true }).expect(200);
        return (res.body as ContainerJson[]).find((c) => c.jobId === jobId);
      },
      30_000,
      `the container of job ${jobId}`,
    );
  }

  beforeAll(async () => {
    ensureFixture();
    dockerBuild(probe, `FROM ${testEnv.fixture}\nLABEL drydock.e2e.probe=${ns}`);
    running = await startApp(
      { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      {
        tokens: [
          { name: 'viewerA', team: 'team-a', role: 'viewer' },
          { name: 'builderA', team: 'team-a', role: 'builder', namespaces: [`${testEnv.registry}/${ns}-a/**`] },
          { name: 'builderB', team: 'team-b', role: 'builder', namespaces: [`${testEnv.registry}/${ns}-b/**`] },
        ],
      },
    );
  });

  afterAll(async () => {
    // Stop what is still running first, so no job outlives the app by restarting a container.
    if (!running) return removeImagesUnder(ns);
    for (const id of jobs) await admin().delete(`/v1/jobs/${id}`).catch(() => undefined);
    await running.close();
    const ours = docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${running.config.keyPrefix}`).split('\n').filter(Boolean);
    const probes = docker('ps', '-aq', '--filter', `ancestor=${probe}`).split('\n').filter(Boolean);
    for (const id of new Set([...ours, ...probes, ...foreign])) {
      if (!containerExists(id)) continue;
      try {
        docker('rm', '-f', id);
      } catch {
        // Already gone.
      }
    }
    removeImagesUnder(ns);
  });

  it("follows the seed: runs a command, streams its output over SSE and graphql-ws, commits with message and author, runs the new image, pushes it", async () => {
    // docker run training/sinatra gem install json
    const accepted = await admin()
      .post('/v1/containers')
      .set('idempotency-key', `seed-${ns}`)
      .send({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo json > /gem && echo installed'] })
      .expect(202);
    const job = accepted.body as JobJson;
    jobs.push(job.id);
    expect(accepted.headers['location']).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ type: 'RUN', state: 'QUEUED', request: { image: testEnv.fixture, cmd: ['sh', '-c', 'echo json > /gem && echo installed'] } });
    // The same Idempotency-Key answers with the same job, not a second container.
    const again = await admin()
      .post('/v1/containers')
      .set('idempotency-key', `seed-${ns}`)
      .send({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo json > /gem && echo installed'] })
      .expect(202);
    expect(again.body.id).toBe(job.id);

    const client = wsClient(running.wsUrl, running.auth);
    let containerId: string;
    try {
      const [live, sse] = await Promise.all([collect<JobEventJson>(client, JOB_EVENTS, { id: job.id }, () => false, 60_000), readSse(running.url, running.token, job.id)]);
      for (const events of [live, sse.events]) {
        expectGapless(events);
        expect(events.at(-1)?.state).toBe('SUCCEEDED');
        expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(['installed']);
        expect(events.find((e) => e.kind === 'RESULT')?.result).toMatchObject({ containerId: expect.stringMatching(/^[0-9a-f]{64}$/), exitCode: 0 });
      }
      expect(sse.names).toContain('log');
      containerId = sse.events.find((e) => e.kind === 'RESULT')?.result?.containerId as string;
    } finally {
      await client.dispose();
    }

    const container = (await admin().get(`/v1/containers/${containerId}`).expect(200)).body as ContainerJson;
    expect(container).toMatchObject({ id: containerId, state: 'exited', running: false, exitCode: 0, jobId: job.id, team: 'ops', owner: 'admin' });
    expect((await admin().get(`/v1/containers/${containerId.slice(0, 12)}/logs`).expect(200)).body).toEqual({
      lines: [{ stream: 'stdout', line: 'installed' }],
      truncated: false,
    });

    // docker commit -m "Added json gem" -a "Kate Smith" <container> ouruser/sinatra:v2
    const committed = await admin()
      .post(`/v1/containers/${containerId.slice(0, 12)}/commit`)
      .send({ repository: repo, tag: 'v2', message: 'Added json gem', author: 'Kate Smith' })
      .expect(201);
    expect(committed.body).toMatchObject({
      id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      comment: 'Added json gem',
      author: 'Kate Smith',
      repoTags: [{ repository: repo, tag: 'v2' }],
    });
    const inspected = await admin().get(`/v1/images/${enc(`${repo}:v2`)}`).expect(200);
    expect(inspected.body).toMatchObject({ id: committed.body.id, comment: 'Added json gem', author: 'Kate Smith' });
    const history = await admin().get(`/v1/images/${enc(`${repo}:v2`)}/history`).expect(200);
    expect(history.body[0]).toMatchObject({ id: committed.body.id, comment: 'Added json gem', tags: [`${repo}:v2`] });
    // The catalogue was told: the list shows the new image at once.
    const listed = await admin().get('/v1/images').query({ reference: repo }).expect(200);
    expect(listed.body.map((i: { id: string }) => i.id)).toEqual([committed.body.id]);

    // docker run ouruser/sinatra:v2 cat /gem, through GraphQL this time.
    const rerun = await query<{ runContainer: JobJson }>(RUN, { input: { image: `${repo}:v2`, cmd: ['cat', '/gem'] } });
    expect(rerun.errors).toBeUndefined();
    const second = rerun.data?.runContainer as JobJson;
    jobs.push(second.id);
    expect(second).toMatchObject({ type: 'RUN', state: 'QUEUED' });
    const client2 = wsClient(running.wsUrl, running.auth);
    try {
      const events = await collect<JobEventJson>(client2, JOB_EVENTS, { id: second.id }, () => false, 60_000);
      expectGapless(events);
      expect(events.at(-1)?.state).toBe('SUCCEEDED');
      expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(['json']);
    } finally {
      await client2.dispose();
    }

    // docker push ouruser/sinatra:v2, as a job.
    const push = await admin().post(`/v1/images/${enc(`${repo}:v2`)}/push`).send({}).expect(202);
    const pushed = await waitForJob(running.url, running.token, push.body.id);
    expect(pushed).toMatchObject({ state: 'SUCCEEDED', result: { digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } });
  });

  it('commits with changes over GraphQL: the new image has the CMD, ENV and LABEL asked for', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo hello > /greeting'], workingDir: '/tmp', user: '0:0', env: ['A=b'] });
    expect((await waitForJob(running.url, running.token, job.id)).state).toBe('SUCCEEDED');
    const container = await containerOf(job.id);
    const res = await query<{ commitContainer: { id: string; comment: string; author: string; repoTags: unknown[]; labels: Array<{ key: string; value: string }>; config: { cmd: string[]; env: string[]; workingDir: string } } }>(
      `mutation($input: CommitContainerInput!) { commitContainer(input: $input) {
         id comment author repoTags { repository tag } labels { key value } config { cmd env workingDir } } }`,
      {
        input: {
          id: container.id,
          repository: `${repo}:changed`,
          message: 'with changes',
          author: 'Kate Smith <kate@example.com>',
          changes: ['CMD ["cat", "/greeting"]', 'ENV GREETING=hello', 'LABEL org.example.seed="update-and-commit"', 'WORKDIR /srv'],
        },
      },
    );
    expect(res.errors).toBeUndefined();
    const image = res.data?.commitContainer;
    expect(image).toMatchObject({ comment: 'with changes', author: 'Kate Smith <kate@example.com>', repoTags: [{ repository: repo, tag: 'changed' }] });
    expect(image?.config.cmd).toEqual(['cat', '/greeting']);
    expect(image?.config.env).toEqual(expect.arrayContaining(['GREETING=hello', 'A=b']));
    expect(image?.config.workingDir).toBe('/srv');
    expect(image?.labels).toEqual(expect.arrayContaining([{ key: 'org.example.seed', value: 'update-and-commit' }]));

    // The image's own CMD now prints what the first run wrote.
    const rerun = await run({ image: `${repo}:changed` });
    const events = (await readSse(running.url, running.token, rerun.id)).events;
    expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(['hello']);
    // The image carries the labels of the container it was committed from; a Drydock run of it is still Drydock's.
    expect(await containerOf(rerun.id)).toMatchObject({ jobId: rerun.id, exitCode: 0 });
  });

  it('refuses a commit change that is not image metadata, naming the instruction, and a tag into a digest', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['true'] });
    await waitForJob(running.url, running.token, job.id);
    const container = await containerOf(job.id);
    for (const [change, instruction] of [
      ['RUN rm -rf /', 'RUN'],
      ['ONBUILD RUN id', 'ONBUILD'],
      ['ADD http://example.com/x /x', 'ADD'],
    ] as const) {
      const res = await admin().post(`/v1/containers/${container.id}/commit`).send({ repository: `${repo}:bad`, changes: ['ENV A=b', change] });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.detail).toContain(`changes[1]: instruction ${instruction} is not allowed`);
    }
    const multi = await admin().post(`/v1/containers/${container.id}/commit`).send({ repository: `${repo}:bad`, changes: ['CMD ["sh"]\nRUN id'] });
    expectProblem(multi, 400, 'VALIDATION_FAILED');
    const gqlRun = await query(`mutation { commitContainer(input: { id: "${container.id}", repository: "${repo}", tag: "bad", changes: ["RUN id"] }) { id } }`);
    expectGqlError(gqlRun, 'VALIDATION_FAILED');
    expect(gqlRun.errors?.[0]?.message).toContain('instruction RUN is not allowed');
    expectProblem(await admin().post(`/v1/containers/${container.id}/commit`).send({ repository: `${repo}@sha256:${'a'.repeat(64)}` }), 400, 'INVALID_REFERENCE');
    expectProblem(await admin().post(`/v1/containers/${container.id}/commit`).send({ repository: 'Upper/Case' }), 400, 'INVALID_REFERENCE');
    expect(docker('images', '-q', `${repo}:bad`)).toBe('');
  });

  describe('the fence', () => {
    const forbidden: Array<[string, Record<string, unknown>]> = [
      ['privileged mode', { privileged: true }],
      ['a bind mount', { binds: ['/:/host'] }],
      ['a host config', { hostConfig: { Privileged: true, Binds: ['/var/run/docker.sock:/var/run/docker.sock'] } }],
      ['the engine spelling of host config', { HostConfig: { NetworkMode: 'host' } }],
      ['an extra capability', { capAdd: ['SYS_ADMIN'] }],
      ['host networking', { networkMode: 'host' }],
      ['the host PID namespace', { pidMode: 'host' }],
      ['the host IPC namespace', { ipcMode: 'host' }],
      ['volumes', { volumes: { '/host': {} } }],
      ['mounts', { mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }],
      ['devices', { devices: [{ PathOnHost: '/dev/mem', PathInContainer: '/dev/mem' }] }],
      ['a security option', { securityOpt: ['seccomp=unconfined'] }],
      ['its own labels', { labels: { [DRYDOCK_LABEL]: 'forged' } }],
      ['no memory limit', { memory: 0 }],
    ];

    it.each(forbidden)('refuses %s over REST with 400 VALIDATION_FAILED', async (_what, extra) => {
      const res = await admin().post('/v1/containers').send({ image: probe, cmd: ['id'], ...extra });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.detail).toContain(Object.keys(extra)[0]);
    });

    it.each(forbidden)('refuses %s over GraphQL, inline and as variables', async (_what, extra) => {
      const [field, value] = Object.entries(extra)[0] as [string, unknown];
      const literal = typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number' ? JSON.stringify(value) : '"x"';
      const inline = await query(`mutation { runContainer(input: { image: "${probe}", ${field}: ${literal} }) { id } }`);
      expect(inline.status).toBe(400);
      expectGqlError(inline, 'VALIDATION_FAILED');
      const variables = await query(RUN, { input: { image: probe, cmd: ['id'], ...extra } });
      expect(variables.status).toBe(400);
      expectGqlError(variables, 'VALIDATION_FAILED');
      expect(variables.errors?.[0]?.message).toContain(field);
    });

    // GraphQL itself coerces a lone string into a one-item list, so `cmd: "id"` is REST-only.
    it.each([
      ['env without =', { env: ['NOEQUALS'] }, 'env', true],
      ['env with a bad name', { env: ['A-B=c'] }, 'env', true],
      ['cmd as a string', { cmd: 'id' }, 'cmd', false],
      ['cmd with a number', { cmd: ['echo', 1] }, 'cmd', true],
      ['an empty cmd', { cmd: [] }, 'cmd', true],
      ['too many arguments', { cmd: Array.from({ length: 300 }, () => 'x') }, 'cmd', true],
      ['a relative workingDir', { workingDir: 'tmp' }, 'workingDir', true],
      ['a user with a shell in it', { user: 'root;id' }, 'user', true],
    ])('checks values: refuses %s', async (_what, extra, field, viaGraphQL) => {
      const res = await admin().post('/v1/containers').send({ image: probe, ...extra });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(res.body.detail).toContain(field);
      if (viaGraphQL) expectGqlError(await query(RUN, { input: { image: probe, ...extra } }), 'VALIDATION_FAILED');
    });

    it('created no container for any refused request, and one for an allowed one', async () => {
      expect(docker('ps', '-aq', '--filter', `ancestor=${probe}`)).toBe('');
      const job = await run({ image: probe, cmd: ['id'] });
      await waitForJob(running.url, running.token, job.id);
      expect(docker('ps', '-aq', '--no-trunc', '--filter', `ancestor=${probe}`)).toBe((await containerOf(job.id)).id);
    });

    it('answers 404 IMAGE_NOT_FOUND before queueing for an image that is not here, and 400 for a bad reference', async () => {
      expectProblem(await admin().post('/v1/containers').send({ image: `${ns}/absent:1` }), 404, 'IMAGE_NOT_FOUND');
      expectProblem(await admin().post('/v1/containers').send({ image: `sha256:${'0'.repeat(64)}` }), 404, 'IMAGE_NOT_FOUND');
      expectProblem(await admin().post('/v1/containers').send({ image: 'Not/A/Reference' }), 400, 'INVALID_REFERENCE');
      expectGqlError(await query(RUN, { input: { image: `${ns}/absent:1` } }), 'IMAGE_NOT_FOUND');
    });

    it('runs by image id and by digest reference', async () => {
      const id = docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture);
      const digest = docker('image', 'inspect', '--format', '{{index .RepoDigests 0}}', testEnv.fixture);
      for (const image of [id, id.slice('sha256:'.length, 'sha256:'.length + 12), digest]) {
        const job = await run({ image, cmd: ['echo', 'ok'] });
        expect(await waitForJob(running.url, running.token, job.id)).toMatchObject({ state: 'SUCCEEDED' });
      }
    });

    it('creates a locked-down container: not privileged, no network, limited, no mounts, labelled', async () => {
      const job = await run({ image: probe, cmd: ['id'] });
      await waitForJob(running.url, running.token, job.id);
      const inspect = engineInspect((await containerOf(job.id)).id);
      expect(inspect.HostConfig.Privileged).toBe(false);
      expect(inspect.HostConfig.NetworkMode).toBe('none');
      expect(inspect.HostConfig.Memory).toBe(running.config.run.memoryBytes);
      expect(inspect.HostConfig.Memory).toBeGreaterThan(0);
      expect(inspect.HostConfig.NanoCpus).toBe(running.config.run.nanoCpus);
      expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(inspect.HostConfig.Binds ?? []).toEqual([]);
      expect(inspect.HostConfig.Mounts ?? []).toEqual([]);
      expect(inspect.Mounts).toEqual([]);
      expect(inspect.HostConfig.Devices ?? []).toEqual([]);
      expect(inspect.HostConfig.CapAdd ?? []).toEqual([]);
      expect(inspect.HostConfig.CapDrop).toEqual(expect.arrayContaining(['NET_RAW']));
      expect(inspect.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
      expect(inspect.HostConfig.PidMode).toBe('');
      expect(inspect.HostConfig.IpcMode).toBe('private');
      expect(inspect.Config.Labels?.[DRYDOCK_LABEL]).toMatch(/^[0-9a-f-]{36}$/);
      expect(inspect.Config.Labels?.['io.drydock.job']).toBe(job.id);
    });
  });

  it('delivers all 10,000 lines of a chatty command as LOG events, in order', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['seq', '1', '10000'] });
    const { events } = await readSse(running.url, running.token, job.id, {}, 110_000);
    expectGapless(events);
    expect(events.at(-1)?.state).toBe('SUCCEEDED');
    const logs = events.filter((e) => e.kind === 'LOG');
    expect(logs).toHaveLength(10_000);
    logs.forEach((event, i) => {
      expect(event.message).toBe(String(i + 1));
      if (i > 0) expect(event.sequence).toBeGreaterThan((logs[i - 1] as JobEventJson).sequence);
    });
  }, 120_000);

  it('ends a command that exits 3 FAILED with the exit code as data (result.containerId, result.exitCode over REST and GraphQL), and keeps the container', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo about to fail; echo complaint >&2; exit 3'] });
    const done = await waitForJob(running.url, running.token, job.id);
    expect(done.state).toBe('FAILED');
    expect(done.error).toEqual({ code: 'RUN_FAILED', message: expect.stringMatching(/exited with code 3$/) });
    expect(done.result).toEqual({ containerId: expect.stringMatching(/^[0-9a-f]{64}$/), exitCode: 3 });
    const overGraphQL = await query<{ job: { state: string; result: { containerId: string; exitCode: number } } }>(`query($id: ID!) { job(id: $id) { state result { containerId exitCode } } }`, { id: job.id });
    expect(overGraphQL.data?.job).toEqual({ state: 'FAILED', result: { containerId: done.result?.containerId, exitCode: 3 } });
    const { events } = await readSse(running.url, running.token, job.id);
    // In order within a stream; between stdout and stderr the engine copies each on its own, as `docker run` shows.
    expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message).sort()).toEqual(['about to fail', 'complaint']);
    expect(events.find((e) => e.kind === 'ERROR')?.error?.code).toBe('RUN_FAILED');
    expect(events.find((e) => e.kind === 'RESULT')?.result).toEqual(done.result);

    const container = await containerOf(job.id);
    expect(container).toMatchObject({ state: 'exited', exitCode: 3, running: false });
    expect(done.error?.message).toContain(container.shortId);
    expect(engineInspect(container.id).State.ExitCode).toBe(3);
    const logs = await admin().get(`/v1/containers/${container.id}/logs`).expect(200);
    expect(logs.body.lines).toEqual(expect.arrayContaining([{ stream: 'stdout', line: 'about to fail' }, { stream: 'stderr', line: 'complaint' }]));
    expect(logs.body.lines).toHaveLength(2);
    const tail = await admin().get(`/v1/containers/${container.id}/logs`).query({ tail: 1 }).expect(200);
    expect(tail.body.lines).toEqual([logs.body.lines[1]]);
    const gqlLogs = await query<{ containerLogs: Array<{ stream: string; line: string }> }>(`query($id: ID!) { containerLogs(id: $id) { stream line } }`, { id: container.id });
    expect(gqlLogs.data?.containerLogs).toEqual(logs.body.lines);
  });

  it('ends a command the image cannot start FAILED with RUN_FAILED and the engine\'s reason', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['/no/such/program'] });
    const done = await waitForJob(running.url, running.token, job.id);
    expect(done).toMatchObject({ state: 'FAILED', error: { code: 'RUN_FAILED', message: expect.stringMatching(/could not start: .*no such file or directory/i) } });
    expect((done as JobJson & { attempts: number }).attempts).toBe(1);
    expect((await containerOf(job.id)).running).toBe(false);
  });

  it('refuses to remove a running container (409) unless forced; cancelling its job stops it', async () => {
    const job = await run({ image: testEnv.fixture, cmd: ['sleep', '120'] });
    const container = await eventually(async () => {
      const found = await containerOf(job.id);
      return found.running ? found : undefined;
    });
    expectProblem(await admin().delete(`/v1/containers/${container.id}`), 409, 'CONTAINER_RUNNING');
    expectGqlError(await query(`mutation($id: ID!) { removeContainer(id: $id) }`, { id: container.id }), 'CONTAINER_RUNNING');
    const running1 = await query<{ containers: ContainerJson[] }>(`{ containers { id running } }`);
    expect(running1.data?.containers).toEqual(expect.arrayContaining([{ id: container.id, running: true }]));

    const cancelled = await admin().delete(`/v1/jobs/${job.id}`).expect(200);
    expect(cancelled.body.state).toBe('CANCELLED');
    await eventually(async () => (engineInspect(container.id).State.Running ? undefined : true), 15_000, 'the container to stop');
    // Stopped, it is no longer listed without all=true, and it may go.
    const listed = await admin().get('/v1/containers').expect(200);
    expect(listed.body.map((c: ContainerJson) => c.id)).not.toContain(container.id);
    await admin().delete(`/v1/containers/${container.id}`).expect(204);
    expect(containerExists(container.id)).toBe(false);
    expectProblem(await admin().get(`/v1/containers/${container.id}`), 404, 'CONTAINER_NOT_FOUND');

    // force removes a running one.
    const other = await run({ image: testEnv.fixture, cmd: ['sleep', '120'] });
    const victim = await eventually(async () => {
      const found = await containerOf(other.id);
      return found.running ? found : undefined;
    });
    const removed = await query<{ removeContainer: boolean }>(`mutation($id: ID!) { removeContainer(id: $id, force: true) }`, { id: victim.id });
    expect(removed.data?.removeContainer).toBe(true);
    expect(containerExists(victim.id)).toBe(false);
    expect((await waitForJob(running.url, running.token, other.id)).state).toMatch(/^(FAILED|CANCELLED)$/);
  });

  describe('a container Drydock did not create', () => {
    let plain: string;
    let inherited: string;

    beforeAll(async () => {
      plain = docker('create', '--network', 'none', '--name', `${ns}-plain`, testEnv.fixture, 'sh', '-c', 'echo secret');
      docker('start', '-a', plain);
      foreign.push(plain);
      // From an image committed through Drydock: it carries Drydock's labels, and so does any container made from it.
      const source = await run({ image: testEnv.fixture, cmd: ['true'] });
      await waitForJob(running.url, running.token, source.id);
      await admin().post(`/v1/containers/${(await containerOf(source.id)).id}/commit`).send({ repository: `${repo}:labelled` }).expect(201);
      inherited = docker('create', '--network', 'none', '--name', `${ns}-inherited`, `${repo}:labelled`, 'true');
      foreign.push(inherited);
      expect(engineInspect(inherited).Config.Labels?.[DRYDOCK_LABEL]).toBeTruthy();
    });

    it('is 404 CONTAINER_NOT_FOUND to every REST endpoint, by id, short id and name', async () => {
      for (const [id, name] of [
        [plain, `${ns}-plain`],
        [inherited, `${ns}-inherited`],
      ] as const) {
        for (const ref of [id, id.slice(0, 12), name]) {
          expectProblem(await admin().get(`/v1/containers/${ref}`), 404, 'CONTAINER_NOT_FOUND');
          expectProblem(await admin().get(`/v1/containers/${ref}/logs`), 404, 'CONTAINER_NOT_FOUND');
          expectProblem(await admin().post(`/v1/containers/${ref}/commit`).send({ repository: `${repo}:stolen` }), 404, 'CONTAINER_NOT_FOUND');
          expectProblem(await admin().delete(`/v1/containers/${ref}`).query({ force: true }), 404, 'CONTAINER_NOT_FOUND');
        }
        const all = await admin().get('/v1/containers').query({ all: true }).expect(200);
        expect(all.body.map((c: ContainerJson) => c.id)).not.toContain(id);
      }
      expect(containerExists(plain)).toBe(true);
      expect(containerExists(inherited)).toBe(true);
      expect(docker('images', '-q', `${repo}:stolen`)).toBe('');
    });

    it('is invisible to every GraphQL field', async () => {
      for (const id of [plain, inherited]) {
        const found = await query<{ container: unknown }>(`query($id: ID!) { container(id: $id) { id } }`, { id });
        expect(found.errors).toBeUndefined();
        expect(found.data?.container).toBeNull();
        expectGqlError(await query(`query($id: ID!) { containerLogs(id: $id) { line } }`, { id }), 'CONTAINER_NOT_FOUND');
        expectGqlError(
          await query(`mutation($id: ID!, $repo: String!) { commitContainer(input: { id: $id, repository: $repo }) { id } }`, { id, repo: `${repo}:stolen` }),
          'CONTAINER_NOT_FOUND',
        );
        expectGqlError(await query(`mutation($id: ID!) { removeContainer(id: $id, force: true) }`, { id }), 'CONTAINER_NOT_FOUND');
        const all = await query<{ containers: Array<{ id: string }> }>(`{ containers(all: true) { id } }`);
        expect(all.data?.containers.map((c) => c.id)).not.toContain(id);
      }
      expect(containerExists(plain)).toBe(true);
      expect(containerExists(inherited)).toBe(true);
    });

    it('refuses a container id that would reach another engine endpoint', async () => {
      expectProblem(await admin().get(`/v1/containers/${enc('../images/json')}`), 400, 'VALIDATION_FAILED');
      expectProblem(await admin().delete(`/v1/containers/${enc(`../images/${testEnv.fixture}`)}`), 400, 'VALIDATION_FAILED');
    });
  });

  describe('roles and teams', () => {
    let teamA: ContainerJson;

    beforeAll(async () => {
      const job = await run({ image: testEnv.fixture, cmd: ['sh', '-c', 'echo from-a > /a'] }, running.tokens['builderA']);
      await waitForJob(running.url, running.token, job.id);
      teamA = await containerOf(job.id, running.tokens['builderA']);
    });

    it("shows a team its own containers and answers 404 for another team's", async () => {
      expect(teamA).toMatchObject({ team: 'team-a', owner: 'builderA' });
      await as('viewerA').get(`/v1/containers/${teamA.id}`).expect(200);
      await as('viewerA').get(`/v1/containers/${teamA.id}/logs`).expect(200);
      expectProblem(await as('builderB').get(`/v1/containers/${teamA.id}`), 404, 'CONTAINER_NOT_FOUND');
      expectProblem(await as('builderB').delete(`/v1/containers/${teamA.id}`), 404, 'CONTAINER_NOT_FOUND');
      const listedB = await as('builderB').get('/v1/containers').query({ all: true }).expect(200);
      expect(listedB.body.map((c: ContainerJson) => c.id)).not.toContain(teamA.id);
      const listedA = await as('viewerA').get('/v1/containers').query({ all: true }).expect(200);
      expect((listedA.body as ContainerJson[]).every((c) => c.team === 'team-a')).toBe(true);
    });

    it('lets a viewer read but not run, commit or remove', async () => {
      expectProblem(await as('viewerA').post('/v1/containers').send({ image: probe }), 403, 'FORBIDDEN');
      expectProblem(await as('viewerA').post(`/v1/containers/${teamA.id}/commit`).send({ repository: `${testEnv.registry}/${ns}-a/x:1` }), 403, 'FORBIDDEN');
      expectProblem(await as('viewerA').delete(`/v1/containers/${teamA.id}`), 403, 'FORBIDDEN');
      expectGqlError(await query(RUN, { input: { image: probe } }, running.tokens['viewerA']), 'FORBIDDEN');
    });

    it("commits only into the builder's namespaces", async () => {
      const outside = await as('builderA').post(`/v1/containers/${teamA.id}/commit`).send({ repository: `${testEnv.registry}/${ns}-b/app`, tag: '1' });
      expectProblem(outside, 403, 'FORBIDDEN');
      expect(docker('images', '-q', `${testEnv.registry}/${ns}-b/app:1`)).toBe('');
      const inside = await as('builderA').post(`/v1/containers/${teamA.id}/commit`).send({ repository: `${testEnv.registry}/${ns}-a/app`, tag: '1' }).expect(201);
      expect(inside.body.repoTags).toEqual([{ repository: `${testEnv.registry}/${ns}-a/app`, tag: '1' }]);
      await as('builderA').delete(`/v1/containers/${teamA.id}`).expect(204);
    });
  });

  it("sweeps this installation's stopped containers once stale, and nothing else", async () => {
    const sweeper = running.app.get(ContainerSweeper);
    const stopped = await run({ image: testEnv.fixture, cmd: ['true'] });
    await waitForJob(running.url, running.token, stopped.id);
    const old = await containerOf(stopped.id);
    const live = await run({ image: testEnv.fixture, cmd: ['sleep', '120'] });
    const busy = await eventually(async () => {
      const found = await containerOf(live.id);
      return found.running ? found : undefined;
    });

    // Not stale yet at the configured age.
    expect(await sweeper.sweep()).toEqual([]);
    expect(containerExists(old.id)).toBe(true);

    // Stale at an age of zero: every stopped container of this installation goes, a running one stays, foreign ones stay.
    const removed = await sweeper.sweep(0);
    expect(removed).toContain(old.id);
    expect(removed).not.toContain(busy.id);
    expect(containerExists(old.id)).toBe(false);
    expect(containerExists(busy.id)).toBe(true);
    for (const id of foreign) expect(containerExists(id)).toBe(true);
    const left = await admin().get('/v1/containers').query({ all: true }).expect(200);
    expect((left.body as ContainerJson[]).map((c) => c.id)).toEqual([busy.id]);
    await admin().delete(`/v1/jobs/${live.id}`).expect(200);
  });
});
