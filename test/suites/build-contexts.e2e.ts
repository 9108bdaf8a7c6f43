import { mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { api } from '../support/http';
import { tarContext } from '../support/jobs';

const CAP = 256 * 1024;
const QUOTA = 600 * 1024;

/** What a raw HTTP/1.1 client saw: the status line's code (0 when the server closed without answering). */
interface RawAnswer {
  status: number;
  text: string;
}

/**
 * Sends a request by hand on a socket: headers, then `body` (a Buffer, or a
 * generator of chunks sent while the server has not answered). `cut` destroys
 * the socket after the body, as a client whose network fails.
 */
function rawRequest(running: RunningApp, head: string, body: Buffer | (() => Buffer), cut = false): Promise<RawAnswer> {
  const { port } = new URL(running.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    const done = () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('error', () => done());
    socket.on('close', done);
    socket.on('connect', () => {
      socket.write(head);
      if (Buffer.isBuffer(body)) {
        socket.write(body, () => {
          if (cut) socket.destroy();
        });
        return;
      }
      // Keep sending while the server reads; stop once it answered (or closed), or the body ran out.
      const pump = () => {
        while (!text && !socket.destroyed && socket.writable) {
          const piece = body();
          if (!piece.length) return;
          if (!socket.write(piece)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.setTimeout(30_000, () => {
      socket.destroy();
      reject(new Error(`no answer in 30 s; got ${JSON.stringify(text.slice(0, 200))}`));
    });
  });
}

function headers(running: RunningApp, token: string, path: string, type: string, length: number): string {
  const { host } = new URL(running.url);
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${length}\r\n` +
    '\r\n'
  );
}

/** One HTTP/1.1 chunk of `size` bytes. */
function multipartBody(boundary: string, context: Buffer, fields: Record<string, string>): Buffer {
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  return Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="context"; filename="c.tar"\r\nContent-Type: application/x-tar\r\n\r\n`),
    context,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

describe('build contexts cut short, oversized or foreign', () => {
  let running: RunningApp;
  let spool: string;
  let context: Buffer;
  let builderA: string;
  let builderB: string;

  beforeAll(async () => {
    running = await startApp(
      {
        DRYDOCK_BUILD_CONTEXT_MAX_BYTES: String(CAP),
        DRYDOCK_TEAM_CONTEXT_MAX_BYTES: String(QUOTA),
        DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      },
      {
        tokens: [
          { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${testEnv.registry}/ctx-team-a/**`] },
          { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: [`${testEnv.registry}/ctx-team-b/**`] },
        ],
      },
    );
    spool = running.config.contextsDir;
    mkdirSync(spool, { recursive: true });
    builderA = running.tokens['builder-a'] as string;
    builderB = running.tokens['builder-b'] as string;
    context = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n`, blob: Buffer.alloc(100 * 1024, 0x42) });
  });
  afterAll(async () => {
    await running.close();
    await dropRedisKeys(running.config.keyPrefix);
  });

  const spooled = () => readdirSync(spool, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);
  const spoolEmpty = () => eventually(async () => (spooled().length === 0 ? true : undefined), 10_000, 'the spool directory to be empty');
  const stillServing = async () => expect((await fetch(`${running.url}/health/live`)).status).toBe(200);

  const targets: Array<[string, string, string, (body: Buffer) => Buffer]> = [
    ['a tar body', `/v1/builds?t=${testEnv.registry}/ctx-team-a/app:1`, 'application/x-tar', (body) => body],
    ['a multipart body', '/v1/builds', 'multipart/form-data; boundary=XyZ', (body) => multipartBody('XyZ', body, { t: `${testEnv.registry}/ctx-team-a/app:1` })],
    ['an upload', '/v1/builds/contexts', 'application/x-tar', (body) => body],
  ];

  it.each(targets)('lives through %s whose client disconnects half-way, and removes its spool file at once', async (_name, path, type, wrap) => {
    const body = wrap(context);
    const answer = await rawRequest(running, headers(running, builderA, path, type, body.length), body.subarray(0, body.length / 2), true);
    expect(answer.status).toBe(0);
    await spoolEmpty();
    await stillServing();
  });

  it.each(targets)('answers 413 to %s past the cap while the client still sends, and keeps no file', async (_name, path, type, wrap) => {
    // A valid tar whose one file goes on past the cap: only the cap can stop it.
    const body = wrap(await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n`, blob: Buffer.alloc(8 * CAP, 0x43) }));
    let offset = 0;
    const answer = await rawRequest(running, headers(running, builderA, path, type, body.length), () => {
      const piece = body.subarray(offset, offset + 16 * 1024);
      offset += piece.length;
      return piece;
    });
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('PAYLOAD_TOO_LARGE');
    expect(answer.text.toLowerCase()).toContain('connection: close');
    await spoolEmpty();
    await stillServing();
  });

  it.each(targets)('answers 400 to %s that is not a tar archive, and keeps no file', async (_name, path, type, wrap) => {
    const body = wrap(Buffer.from('this is not a tar archive, only words. '.repeat(200)));
    const answer = await rawRequest(running, headers(running, builderA, path, type, body.length), body);
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/VALIDATION_FAILED|DOCKERFILE_INVALID/);
    await spoolEmpty();
  });

  it('refuses a context holding its Dockerfile twice, and one whose Dockerfile is over 1 MiB', async () => {
    const twice = Buffer.concat([
      (await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n` })).subarray(0, 1024),
      await tarContext({ './Dockerfile': `FROM ${testEnv.registry}/ctx-team-b/secret:1\n` }),
    ]);
    const refused = await api(running, builderA)
      .post(`/v1/builds?t=${testEnv.registry}/ctx-team-a/app:1`)
      .set('content-type', 'application/x-tar')
      .send(twice)
      .expect(400);
    expect(refused.body).toMatchObject({ code: 'DOCKERFILE_INVALID', detail: expect.stringMatching(/more than one entry named Dockerfile/) });

    const roomy = await startApp({ DRYDOCK_BUILD_CONTEXT_MAX_BYTES: String(4 * 1024 ** 2) });
    try {
      const huge = await tarContext({ Dockerfile: `FROM ${testEnv.fixture}\n${'# pad\n'.repeat(200_000)}` });
      const tooBig = await api(roomy).post('/v1/builds?t=x/y:1').set('content-type', 'application/x-tar').send(huge).expect(400);
      expect(tooBig.body).toMatchObject({ code: 'DOCKERFILE_INVALID', detail: expect.stringMatching(/over the 1048576-byte limit/) });
    } finally {
      await roomy.close();
    }
    await spoolEmpty();
  });

  describe('uploads belong to their team', () => {
    it("answers another team's upload id as not found, and builds from it for its own team", async () => {
      const upload = await api(running, builderA).post('/v1/builds/contexts').set('content-type', 'application/x-tar').send(context).expect(201);
      expect(spooled().sort()).toEqual([`${upload.body.id}.json`, `${upload.body.id}.tar`].sort());

      const foreign = await api(running, builderB)
        .post('/v1/builds')
        .send({ contextUploadId: upload.body.id, tags: [`${testEnv.registry}/ctx-team-b/stolen:1`] })
        .expect(404);
      expect(foreign.body.code).toBe('UPLOAD_NOT_FOUND');
      const unknown = await api(running, builderB)
        .post('/v1/builds')
        .send({ contextUploadId: '00000000-0000-4000-8000-000000000000', tags: [`${testEnv.registry}/ctx-team-b/stolen:1`] })
        .expect(404);
      expect(unknown.body.detail.replace(/[0-9a-f-]{36}/, 'ID')).toBe(foreign.body.detail.replace(/[0-9a-f-]{36}/, 'ID'));
      const jobs = await api(running, builderB).get('/v1/jobs').expect(200);
      expect(jobs.body).toEqual([]);

      const own = await api(running, builderA)
        .post('/v1/builds')
        .send({ contextUploadId: upload.body.id, tags: [`${testEnv.registry}/ctx-team-a/app:up`] })
        .expect(202);
      await api(running, builderA).delete(`/v1/jobs/${own.body.id}`);
    });

    it("refuses an upload past the team's quota with 413 naming it, while another team may still upload", async () => {
      await spoolEmpty().catch(() => undefined);
      const stored: string[] = [];
      let refused: { status: number; body: { code: string; detail: string } } | undefined;
      for (let i = 0; i < 10 && !refused; i++) {
        const response = await api(running, builderA).post('/v1/builds/contexts').set('content-type', 'application/x-tar').send(context);
        if (response.status === 201) stored.push(response.body.id);
        else refused = response;
      }
      expect(refused?.status).toBe(413);
      expect(refused?.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', detail: expect.stringMatching(/quota \(DRYDOCK_TEAM_CONTEXT_MAX_BYTES\)/) });
      expect(stored.length).toBe(Math.floor(QUOTA / context.length));
      await api(running, builderB).post('/v1/builds/contexts').set('content-type', 'application/x-tar').send(context).expect(201);
    });
  });
});
