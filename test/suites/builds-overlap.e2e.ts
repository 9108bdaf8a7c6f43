import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { mkdirSync, readdirSync } from 'node:fs';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, idleSyncedContexts, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { api } from '../support/http';
import { tarContext, waitForJob, type JobJson } from '../support/jobs';

/**
 * A context sent in BuildKit's walk order (`contextOrder=sorted`): its build
 * starts while the upload still arrives, the answer waits for the whole of
 * it, and an upload refused on the way fails the build with the same code.
 */

const CAP = 8 * 1024 * 1024;

interface Upload {
  client: ClientRequest;
  answer: Promise<{ status: number; body: Record<string, unknown> }>;
}

function imageExists(tag: string): boolean {
  try {
    docker('image', 'inspect', tag);
    return true;
  } catch {
    return false;
  }
}

/** A chunked POST of a tar the test writes piece by piece, so it can look at the server between pieces. */
function startUpload(running: RunningApp, token: string, query: string): Upload {
  const client = request(`${running.url}/v1/builds?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar', 'transfer-encoding': 'chunked' },
  });
  const answer = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    client.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => (text += piece));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      response.on('error', reject);
    });
    client.on('error', reject);
  });
  // A cut upload ends in an error on the client's side too: the test looks at the server's.
  answer.catch(() => undefined);
  return { client, answer };
}

function send(upload: Upload, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => upload.client.write(bytes, (error) => (error ? reject(error) : resolve())));
}

describe('a build started while its context still arrives (contextOrder=sorted)', () => {
  let running: RunningApp;
  let token: string;
  let spool: string;
  const repository = `${testEnv.registry}/overlap-team/${uniqueNamespace('app')}`;

  beforeAll(async () => {
    running = await startApp(
      { DRYDOCK_BUILD_CONTEXT_MAX_BYTES: String(CAP), DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
      { tokens: [{ name: 'builder', team: 'overlap-team', role: 'builder', namespaces: [`${testEnv.registry}/overlap-team/**`] }] },
    );
    token = running.tokens['builder'] as string;
    spool = running.config.contextsDir;
    mkdirSync(spool, { recursive: true });
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  const jobs = async (): Promise<JobJson[]> => (await api(running, token).get('/v1/jobs').expect(200)).body as JobJson[];
  /** The team's newest job once it exists (its id is not answered before the upload is whole). */
  const startedJob = () =>
    eventually(
      async () => {
        const found = (await jobs())[0];
        return found && found.state === 'RUNNING' ? found : undefined;
      },
      30_000,
      'the build to be running before its upload ends',
    );
  const spoolEmpty = () =>
    eventually(async () => (readdirSync(spool).length === 0 ? true : undefined), 10_000, 'the spool directory to be empty');
  const lastJob = async (): Promise<JobJson> => (await jobs())[0] as JobJson;

  it('runs the build while the upload is held half-way, then answers 202 with that job once it is whole, and the image holds every byte', async () => {
    const since = Date.now() - 1_000;
    const blob = randomBytes(2 * 1024 * 1024);
    const tar = await tarContext({
      Dockerfile: `FROM ${testEnv.fixture}\nCOPY blob.bin /blob.bin\nRUN sha256sum /blob.bin\n`,
      'blob.bin': blob,
    });
    const tag = `${repository}:held`;
    const upload = startUpload(running, token, `t=${encodeURIComponent(tag)}&contextOrder=sorted`);
    // The Dockerfile and the start of blob.bin: the rest waits for the test.
    await send(upload, tar.subarray(0, 64 * 1024));
    const job = await startedJob();
    await send(upload, tar.subarray(64 * 1024));
    upload.client.end();
    const answer = await upload.answer;
    expect(answer.status).toBe(202);
    expect(answer.body['id']).toBe(job.id);

    const done = await waitForJob(running.url, token, job.id, 120_000);
    expect(done.state).toBe('SUCCEEDED');
    const sum = docker('run', '--rm', '--network', 'none', tag, 'sha256sum', '/blob.bin').split(' ')[0];
    expect(sum).toBe(createHash('sha256').update(blob).digest('hex'));
    await spoolEmpty();
    // Nor does the engine keep the context BuildKit synced for it (under a shared key no build uses again).
    await eventually(async () => ((await idleSyncedContexts(since)).length === 0 ? true : undefined), 30_000, 'no idle synced context in the build cache');
    docker('rmi', tag);
  });

  it('refuses an entry out of walk order with 400, and fails the build it had started with the same code, tagging nothing', async () => {
    const tag = `${repository}:unsorted`;
    const tar = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\nCOPY . /ctx/\n`, b: 'b', a: 'a' });
    const upload = startUpload(running, token, `t=${encodeURIComponent(tag)}&contextOrder=sorted`);
    await send(upload, tar);
    upload.client.end();
    const answer = await upload.answer;
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringMatching(/entry a comes after b/) });
    const failed = await waitForJob(running.url, token, (await lastJob()).id, 60_000);
    expect(failed).toMatchObject({ state: 'FAILED', error: { code: 'VALIDATION_FAILED' } });
    expect(imageExists(tag)).toBe(false);
    await spoolEmpty();
  });

  it('fails the build with PAYLOAD_TOO_LARGE when the upload goes past the cap after the build started, stopping its running step', async () => {
    const tag = `${repository}:too-big`;
    // A step that would run for minutes: the refused upload must stop it.
    const marker = `sleep ${600 + Math.floor(Math.random() * 300)}`;
    const tar = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\nRUN echo started && ${marker}\nCOPY big.bin /\n`, 'big.bin': Buffer.alloc(2 * CAP) });
    const upload = startUpload(running, token, `t=${encodeURIComponent(tag)}&contextOrder=sorted&nocache=true`);
    await send(upload, tar.subarray(0, 64 * 1024));
    const job = await startedJob();
    const processes = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.trim() === marker);
    await eventually(async () => (processes().length > 0 ? true : undefined), 60_000, 'the RUN step to be running');
    const sending = send(upload, tar.subarray(64 * 1024)).catch(() => undefined);
    const answer = await upload.answer;
    upload.client.destroy();
    await sending;
    expect(answer.status).toBe(413);
    const failed = await waitForJob(running.url, token, job.id, 30_000);
    expect(failed).toMatchObject({ state: 'FAILED', error: { code: 'PAYLOAD_TOO_LARGE' } });
    await eventually(async () => (processes().length === 0 ? true : undefined), 10_000, `no "${marker}" left running`);
    expect(imageExists(tag)).toBe(false);
    await spoolEmpty();
  });

  it('fails the build with VALIDATION_FAILED when its client goes away mid-upload', async () => {
    const tag = `${repository}:cut`;
    const tar = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\nCOPY big.bin /\n`, 'big.bin': randomBytes(CAP / 2) });
    const upload = startUpload(running, token, `t=${encodeURIComponent(tag)}&contextOrder=sorted`);
    await send(upload, tar.subarray(0, 64 * 1024));
    const job = await startedJob();
    upload.client.destroy();
    const failed = await waitForJob(running.url, token, job.id, 30_000);
    expect(failed).toMatchObject({ state: 'FAILED', error: { code: 'VALIDATION_FAILED' } });
    expect(imageExists(tag)).toBe(false);
    await spoolEmpty();
  });

  it('waits for the whole upload before queueing a legacy build or one with an Idempotency-Key', async () => {
    const tar = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n`, 'z.bin': Buffer.alloc(256 * 1024) });
    for (const query of ['builder=legacy', 'builder=buildkit']) {
      const tag = `${repository}:whole-${query.replace('builder=', '')}`;
      const upload = startUpload(running, token, `t=${encodeURIComponent(tag)}&contextOrder=sorted&${query}`);
      if (query === 'builder=buildkit') upload.client.setHeader('idempotency-key', `overlap-${Date.now()}`);
      await send(upload, tar.subarray(0, 64 * 1024));
      // The Dockerfile is on disk: a build queued early would be older than this.
      await eventually(async () => (readdirSync(spool).length > 0 ? true : undefined), 10_000, 'the upload to be spooling');
      const held = Date.now();
      await send(upload, tar.subarray(64 * 1024));
      upload.client.end();
      const answer = await upload.answer;
      expect(answer.status).toBe(202);
      const job = await waitForJob(running.url, token, answer.body['id'] as string, 120_000);
      expect(job.state).toBe('SUCCEEDED');
      expect(Date.parse(job.createdAt)).toBeGreaterThanOrEqual(held);
      docker('rmi', tag);
    }
  });
});
