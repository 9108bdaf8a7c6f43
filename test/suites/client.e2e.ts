import {
  buildTar,
  createDrydockClient,
  dataOf,
  DrydockGraphQLError,
  DrydockProblemError,
  ImagesDocument,
  JobEventsDocument,
  PullImageDocument,
  type DrydockClient,
  type JobEvent,
} from '@drydock/client';
import { buildDirectory } from '@drydock/client/node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { cuttingProxy } from '../support/cutting-proxy';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { tarContext } from '../support/jobs';

function expectGapless(events: Array<Pick<JobEvent, 'sequence' | 'kind' | 'state'>>): void {
  expect(events.map((event) => event.sequence)).toEqual(events.map((_event, i) => i + 1));
  expect(events.at(-1)).toMatchObject({ kind: 'STATE', state: 'SUCCEEDED' });
}

describe('@drydock/client against the real Drydock', () => {
  const ns = uniqueNamespace('e2e-client');
  const work = mkdtempSync(join(tmpdir(), 'drydock-client-'));
  let running: RunningApp;
  let admin: DrydockClient;
  let builder: DrydockClient;
  let viewer: DrydockClient;

  const clientAs = (token: string, baseUrl = running.url): DrydockClient => createDrydockClient({ baseUrl, token, webSocketImpl: WebSocket });

  beforeAll(async () => {
    running = await startApp(
      { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0', DRYDOCK_BUILD_CONTEXT_MAX_BYTES: String(64 * 1024) },
      {
        tokens: [
          { name: 'builder', team: 'team-a', role: 'builder', namespaces: [`${ns}/**`] },
          { name: 'viewer', team: 'team-a', role: 'viewer' },
        ],
      },
    );
    admin = clientAs(running.token);
    builder = clientAs(running.tokens['builder'] as string);
    viewer = clientAs(running.tokens['viewer'] as string);
  });
  afterAll(async () => {
    await Promise.all([admin, builder, viewer].map((client) => client.close()));
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
    removeImagesUnder(ns);
    rmSync(work, { recursive: true, force: true });
  });

  it('serves at /docs-json the OpenAPI document the client was generated from', async () => {
    const served = await (await fetch(`${running.url}/docs-json`)).json();
    expect(served).toEqual(JSON.parse(readFileSync(join(__dirname, '../../libs/client/openapi.json'), 'utf8')));
  });

  it('pulls an image and watches the job to its end through the client', async () => {
    const answer = await admin.POST('/v1/images/pull', { body: { reference: testEnv.fixture } });
    expect(answer.response.status).toBe(202);
    const job = dataOf(answer);
    expect(job).toMatchObject({ type: 'PULL', state: 'QUEUED' });

    const events: JobEvent[] = [];
    for await (const event of admin.watchJob(job.id)) events.push(event);
    expectGapless(events);
    expect(events.every((event) => event.jobId === job.id)).toBe(true);

    const { data: ended } = await admin.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } });
    expect(ended).toMatchObject({ id: job.id, state: 'SUCCEEDED' });
    const { data: image } = await admin.GET('/v1/images/{ref}', { params: { path: { ref: testEnv.fixture } } });
    expect(image?.repoTags).toContainEqual({ repository: testEnv.fixture.slice(0, testEnv.fixture.lastIndexOf(':')), tag: '1' });
  });

  it('resumes a watched job after the stream is cut with Last-Event-ID', async () => {
    const proxy = await cuttingProxy(running.url, 2);
    const throughProxy = clientAs(running.tokens['builder'] as string, proxy.url);
    try {
      // A build that runs for a moment, so the cut falls while it is still going.
      const job = dataOf(
        await throughProxy.POST('/v1/builds', {
          body: { dockerfile: `FROM ${testEnv.fixture}\nRUN sleep 1 && echo one\nRUN echo two`, tags: [`${ns}/resumed:1`] },
        }),
      );
      const events: JobEvent[] = [];
      for await (const event of throughProxy.watchJob(job.id, { retryDelayMs: 50 })) events.push(event);

      expect(proxy.cut).toBe(true);
      expect(proxy.lastEventIds).toEqual([null, '2']);
      expectGapless(events);
      // Nothing lost, nothing twice: what a reader that was never cut gets.
      const uncut: JobEvent[] = [];
      for await (const event of builder.watchJob(job.id)) uncut.push(event);
      expect(events).toEqual(uncut);
    } finally {
      await throughProxy.close();
      await proxy.close();
    }
  });

  it('builds a directory streamed as a tar in walk order, leaving out what `ignore` names', async () => {
    const dir = join(work, 'context');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(dir, 'skipped'), { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${testEnv.fixture}\nCOPY . /ctx/\nRUN test -f /ctx/sub/nested.txt && test ! -e /ctx/ignored.txt && test ! -e /ctx/skipped\n`);
    writeFileSync(join(dir, 'sub', 'nested.txt'), 'nested\n');
    writeFileSync(join(dir, 'sub', 'deeper', 'z.txt'), 'z\n');
    // Sorted as whole paths, sub.txt would come before sub/nested.txt ('.' < '/'): the walk puts the directory's contents first.
    writeFileSync(join(dir, 'sub.txt'), 'beside sub\n');
    writeFileSync(join(dir, 'B.txt'), 'upper case sorts first\n');
    writeFileSync(join(dir, 'skipped', 'inside.txt'), 'left out with its directory\n');
    writeFileSync(join(dir, 'ignored.txt'), 'not for the context\n');
    const ref = `${ns}/app:1`;

    const queued = await buildDirectory(builder, dir, { tags: [ref], ignore: (path) => path === 'ignored.txt' || path === 'skipped', labels: { 'e2e.client': ns } });
    expect(queued).toMatchObject({ type: 'BUILD', state: 'QUEUED' });
    const ended = await builder.waitForJob(queued.id);
    expect(ended).toMatchObject({ state: 'SUCCEEDED', result: { tags: [ref] } });

    const { data: image } = await builder.GET('/v1/images/{ref}', { params: { path: { ref } } });
    expect(image?.id).toBe(ended.result?.imageId);
    expect(image?.labels).toContainEqual({ key: 'e2e.client', value: ns });
    expect(docker('run', '--rm', ref, 'cat', '/ctx/sub/nested.txt')).toBe('nested');
    expect(docker('run', '--rm', ref, 'find', '/ctx', '-type', 'f').split('\n').sort()).toEqual(
      ['/ctx/B.txt', '/ctx/Dockerfile', '/ctx/sub.txt', '/ctx/sub/deeper/z.txt', '/ctx/sub/nested.txt'].sort(),
    );
  });

  it("builds a tar held in memory (a browser's File or Blob) with buildTar, its build args and Dockerfile path as the query", async () => {
    const context = await tarContext({ 'docker/Dockerfile.app': `FROM ${testEnv.fixture}\nARG GREETING\nRUN echo "$GREETING" > /greeting\n` });
    const ref = `${ns}/blob:1`;
    const queued = await buildTar(builder, new Blob([context]), { tags: [ref], dockerfile: 'docker/Dockerfile.app', buildArgs: { GREETING: 'from a blob' } });
    expect(queued).toMatchObject({ type: 'BUILD', state: 'QUEUED' });
    expect(await builder.waitForJob(queued.id)).toMatchObject({ state: 'SUCCEEDED', result: { tags: [ref] } });
    expect(docker('run', '--rm', ref, 'cat', '/greeting')).toBe('from a blob');

    await expect(buildTar(viewer, new Blob([context]), { tags: [`${ns}/viewer-blob:1`] })).rejects.toMatchObject({ name: 'DrydockProblemError', status: 403, code: 'FORBIDDEN' });
  });

  it('a refused request throws a DrydockProblemError with the stable code', async () => {
    const absent = await admin.GET('/v1/images/{ref}', { params: { path: { ref: `${ns}/absent:1` } } }).catch((error: unknown) => error);
    expect(absent).toBeInstanceOf(DrydockProblemError);
    expect(absent).toMatchObject({ status: 404, code: 'IMAGE_NOT_FOUND', title: expect.any(String), detail: expect.stringContaining('absent') });

    const dir = join(work, 'refused');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${testEnv.fixture}\n`);
    await expect(buildDirectory(viewer, dir, { tags: [`${ns}/viewer:1`] })).rejects.toMatchObject({ name: 'DrydockProblemError', status: 403, code: 'FORBIDDEN' });
    await expect(buildDirectory(builder, dir, { tags: ['elsewhere/app:1'] })).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });

    // Past the context cap (64 KiB here) by far: refused while the tar is still arriving, and the answer still read
    // (Drydock reads and drops what comes after it for a while, rather than reset the connection under it).
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(64 * 1024 ** 2, 7));
    const tooBig = await buildDirectory(builder, dir, { tags: [`${ns}/big:1`] }).catch((error: unknown) => error);
    expect(tooBig).toBeInstanceOf(DrydockProblemError);
    expect(tooBig).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });

    await expect(builder.watchJob('no-such-job').next()).rejects.toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
  });

  it('queries images and follows a job to its end over GraphQL, typed by the generated documents', async () => {
    const { images } = await builder.request(ImagesDocument, { filter: { reference: `${ns}/app` } });
    expect(images.map((image) => image.repoTags)).toEqual([[{ repository: `${ns}/app`, tag: '1' }]]);

    const { pullImage } = await admin.request(PullImageDocument, { input: { reference: testEnv.fixture } });
    const events: Array<{ sequence: number; kind: string; state?: string | null }> = [];
    for await (const { jobEvents } of admin.subscribe(JobEventsDocument, { jobId: pullImage.id, fromSequence: 1 })) events.push(jobEvents);
    expectGapless(events as JobEvent[]);

    const refused = await viewer.request(PullImageDocument, { input: { reference: testEnv.fixture } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DrydockGraphQLError);
    expect((refused as DrydockGraphQLError).code).toBe('FORBIDDEN');
  });
});
