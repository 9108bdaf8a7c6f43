import { JobEventStore, type JobEvent } from '@drydock/jobs';
import { randomBytes } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { collect, eventually, wsClient } from '../support/graphql';
import { api } from '../support/http';
import { expectGapless, JOB_EVENT_FIELDS, readSse, tarContext, waitForJob, type JobEventJson, type JobJson } from '../support/jobs';

/**
 * Hostile streams (issue 8, items 3-6 and 16): output that never ends, lines
 * that never end, clients that never read, websocket messages of any size,
 * logs of any length, and resume points past any sequence. The service must
 * bound each, and stay up.
 */

const MiB = 1024 * 1024;
const LOG_BUDGET_LINES = 1000;
const LOGS_CAP = 100_000;

interface LogsJson {
  lines: Array<{ stream: string; line: string }>;
  truncated: boolean;
}

/** The byte count the logs endpoint limits: each line with its newline, the cut last one without. */
function outputBytes(body: LogsJson): number {
  const total = body.lines.reduce((sum, { line }) => sum + Buffer.byteLength(line) + 1, 0);
  return body.truncated ? total - 1 : total;
}

describe('hostile streams: bounded job output, paged replays, capped websockets and logs', () => {
  let running: RunningApp;
  const jobs: string[] = [];
  const ns = uniqueNamespace('e2e-streams');
  const admin = () => api(running);

  async function run(cmd: string[]): Promise<JobJson> {
    const res = await admin().post('/v1/containers').send({ image: testEnv.fixture, cmd }).expect(202);
    jobs.push(res.body.id);
    return res.body as JobJson;
  }

  async function containerOf(jobId: string): Promise<string> {
    return eventually(
      async () => {
        const res = await admin().get('/v1/containers').query({ all: true }).expect(200);
        return (res.body as Array<{ id: string; jobId: string | null }>).find((c) => c.jobId === jobId)?.id;
      },
      30_000,
      `the container of job ${jobId}`,
    );
  }

  async function healthy(): Promise<void> {
    await api(running).get('/v1/jobs').expect(200);
  }

  beforeAll(async () => {
    running = await startApp({
      DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      DRYDOCK_JOB_MAX_LOG_LINES: String(LOG_BUDGET_LINES),
      DRYDOCK_CONTAINER_LOGS_MAX_BYTES: String(LOGS_CAP),
    });
  });

  afterAll(async () => {
    if (!running) return;
    for (const id of jobs) await admin().delete(`/v1/jobs/${id}`).catch(() => undefined);
    await running.close();
    removeImagesUnder(ns);
    const ours = docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${running.config.keyPrefix}`).split('\n').filter(Boolean);
    for (const id of ours) docker('rm', '-f', id);
  });

  describe("a job's output", () => {
    it('stops storing a flood of lines at the budget, with one notice and the count of dropped lines before the end', async () => {
      const job = await run(['seq', '1', '200000']);
      const { events } = await readSse(running.url, running.token, job.id, {}, 110_000);
      expectGapless(events);
      expect(events.at(-1)?.state).toBe('SUCCEEDED');
      const logs = events.filter((e) => e.kind === 'LOG').map((e) => e.message ?? '');
      expect(logs.slice(0, LOG_BUDGET_LINES)).toEqual(Array.from({ length: LOG_BUDGET_LINES }, (_, i) => String(i + 1)));
      const notices = logs.slice(LOG_BUDGET_LINES);
      expect(notices).toEqual([
        expect.stringMatching(/budget \(1000 lines, \d+ bytes\) is counted and dropped/),
        expect.stringMatching(/^199000 lines \(\d+ bytes\) of output past this job's budget were dropped$/),
      ]);
      expect(events.length).toBeLessThan(LOG_BUDGET_LINES + 10);
    }, 120_000);

    it('cuts a build step printing a 3 MB line without a newline to a marked line of at most 1 MiB, and keeps the budget', async () => {
      const dockerfile = `FROM ${testEnv.fixture}\nRUN head -c 3000000 /dev/zero | tr '\\0' a && seq 1 5000 && echo done`;
      const context = await tarContext({ Dockerfile: dockerfile });
      const res = await admin()
        .post(`/v1/builds?t=${encodeURIComponent(`${testEnv.registry}/${ns}/flood:1`)}&nocache=true&builder=legacy`)
        .set('content-type', 'application/x-tar')
        .send(context)
        .expect(202);
      jobs.push(res.body.id);
      const { events } = await readSse(running.url, running.token, res.body.id, {}, 110_000);
      expectGapless(events);
      expect(events.at(-1)?.state).toBe('SUCCEEDED');
      const logs = events.filter((e) => e.kind === 'LOG').map((e) => e.message ?? '');
      for (const line of logs) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MiB);
      expect(logs.filter((line) => line.endsWith(' [line truncated]'))).toHaveLength(1);
      expect(logs.at(-1)).toMatch(/^\d+ lines \(\d+ bytes\) of output past this job's budget were dropped$/);
      expect(events.length).toBeLessThan(LOG_BUDGET_LINES + 20);
    }, 120_000);

    it('cuts a 3 MB line without a newline to one marked line of at most 1 MiB', async () => {
      const job = await run(['sh', '-c', "head -c 3000000 /dev/zero | tr '\\0' a"]);
      const { events } = await readSse(running.url, running.token, job.id, {}, 60_000);
      expectGapless(events);
      const logs = events.filter((e) => e.kind === 'LOG').map((e) => e.message ?? '');
      expect(logs).toHaveLength(1);
      expect(Buffer.byteLength(logs[0] ?? '')).toBeLessThanOrEqual(MiB);
      expect(logs[0]).toMatch(/^a+ \[line truncated\]$/);
      await healthy();
    });
  });

  describe('event replays', () => {
    const LINES = 20_000;
    /** A short ended job: QUEUED, RUNNING, one LOG, RESULT, SUCCEEDED. */
    let short: JobJson;

    beforeAll(async () => {
      short = await run(['echo', 'one']);
      await waitForJob(running.url, running.token, short.id);
    });

    /** An app of its own, with this suite's budget lifted: a job of 20,000 lines needs it. */
    async function withApp(test: (other: RunningApp) => Promise<void>): Promise<void> {
      const other = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0', DRYDOCK_JOB_MAX_LOG_LINES: String(LINES * 2), DRYDOCK_JOB_MAX_LOG_BYTES: String(64 * MiB) });
      try {
        await test(other);
      } finally {
        await other.close();
        const made = docker('ps', '-aq', '--filter', `label=io.drydock.deployment=${other.config.keyPrefix}`).split('\n').filter(Boolean);
        for (const id of made) docker('rm', '-f', id);
      }
    }

    it('replays a 20,000-event job over SSE in order and without a gap, a page at a time', async () => {
      await withApp(async (other) => {
        const job = (await api(other).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['seq', '1', String(LINES)] }).expect(202)).body as JobJson;
        await waitForJob(other.url, other.token, job.id, 110_000);
        const reads = countStoreReads(other);
        const { events } = await readSse(other.url, other.token, job.id, {}, 110_000);
        expectGapless(events);
        expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(Array.from({ length: LINES }, (_, i) => String(i + 1)));
        expect(Math.max(...reads)).toBeLessThanOrEqual(500);
      });
    }, 120_000);

    it('reads no further from the store than a client that stops reading has taken, and resumes where it stopped', async () => {
      await withApp(async (other) => {
        const job = (await api(other).post('/v1/containers').send({
          image: testEnv.fixture,
          cmd: ['sh', '-c', `line=$(head -c 1000 /dev/zero | tr '\\0' x); yes "$line" | head -n ${LINES}`],
        }).expect(202)).body as JobJson;
        await waitForJob(other.url, other.token, job.id, 110_000);
        const reads = countStoreReads(other);
        const response = await sseResponse(other, job.id);
        // Not read: Node's HTTP client stops reading the socket once its small buffer is full.
        let last = -1;
        const settled = await eventually(
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 300));
            const total = reads.reduce((a, b) => a + b, 0);
            const stable = total > 0 && total === last;
            last = total;
            return stable ? total : undefined;
          },
          60_000,
          'the server to stop reading events for a client that does not read',
        );
        // 20,002 events of ~1.2 kB are ~24 MB; what the server read is what the socket buffers could take, plus a page.
        expect(settled).toBeLessThan(LINES / 2);
        const events = parseSse(await bodyOf(response));
        expectGapless(events);
        expect(events).toHaveLength(LINES + 4);
      });
    }, 120_000);

    it('answers 400 before the stream starts to a resume point past any sequence, on SSE and GraphQL', async () => {
      for (const id of ['1e308', '99999999999999999999', '9007199254740993', '-1', '1.5', '0x10', '+4']) {
        const res = await admin().get(`/v1/jobs/${short.id}/events`).set('last-event-id', id);
        expect({ id, status: res.status, code: res.body?.code }).toEqual({ id, status: 400, code: 'VALIDATION_FAILED' });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      for (const from of ['1e308', '99999999999999999999', '2147483648', '0']) {
        const res = await admin().get(`/v1/jobs/${short.id}/events`).query({ from });
        expect({ from, status: res.status, code: res.body?.code }).toEqual({ from, status: 400, code: 'VALIDATION_FAILED' });
      }
      // A resume point after the last event of an ended job is an ordinary, empty, replay.
      const resumed = await readSse(running.url, running.token, short.id, { 'last-event-id': '5' });
      expect(resumed.status).toBe(200);

      const client = wsClient(running.wsUrl, running.auth);
      try {
        const query = `subscription($id: ID!, $from: Int) { jobEvents(jobId: $id, fromSequence: $from) { ${JOB_EVENT_FIELDS} } }`;
        for (const from of [1e12, 2 ** 31, 0, -5]) {
          const error = await collect<JobEventJson>(client, query, { id: short.id, from }, () => false, 10_000).then(
            () => null,
            (e: unknown) => String(e instanceof Error ? e.message : e),
          );
          expect({ from, error }).toEqual({ from, error: expect.stringContaining('VALIDATION_FAILED') });
        }
      } finally {
        await client.dispose();
      }
    });
  });

  describe('graphql-ws', () => {
    function socket(protocol = 'graphql-transport-ws'): Promise<WebSocket> {
      const ws = new WebSocket(running.wsUrl, protocol);
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    }

    function closed(ws: WebSocket): Promise<number> {
      return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
    }

    it('closes a socket whose connection_init is past the message cap with 1009, and the service still answers', async () => {
      const ws = await socket();
      const code = closed(ws);
      ws.on('error', () => undefined);
      ws.send(JSON.stringify({ type: 'connection_init', payload: { junk: 'j'.repeat(2 * MiB) } }));
      expect(await code).toBe(1009);
      await healthy();
    });

    it('closes a socket that never sends connection_init (4408), and one asking for the legacy subprotocol (4406)', async () => {
      const silent = await socket();
      expect(await closed(silent)).toBe(4408);
      expect(await legacyCloseCode(running)).toBe(4406);
    });

    it('still serves a subscription whose messages are within the cap', async () => {
      const client = wsClient(running.wsUrl, running.auth);
      try {
        const job = await run(['echo', 'hello']);
        const events = await collect<JobEventJson>(
          client,
          `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`,
          { id: job.id },
          () => false,
          60_000,
        );
        expect(events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(['hello']);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('container logs', () => {
    let container: string;

    beforeAll(async () => {
      // 100,000 lines of 7 bytes: 700,000 bytes, seven times the cap.
      const job = await run(['seq', '-w', '1', '100000']);
      await waitForJob(running.url, running.token, job.id, 110_000);
      container = await containerOf(job.id);
    }, 120_000);

    it('gives exactly the cap of a longer output, the crossing line cut there, and says it was truncated', async () => {
      const res = await admin().get(`/v1/containers/${container}/logs`).expect(200);
      const body = res.body as LogsJson;
      expect(body.truncated).toBe(true);
      expect(outputBytes(body)).toBe(LOGS_CAP);
      // 14,285 whole lines of 7 bytes, then 5 bytes of the next.
      expect(body.lines).toHaveLength(14_286);
      expect(body.lines.at(-2)).toEqual({ stream: 'stdout', line: '014285' });
      expect(body.lines.at(-1)).toEqual({ stream: 'stdout', line: '01428' });
      await healthy();
    });

    it('takes a smaller limit, and never more than the cap', async () => {
      const small = (await admin().get(`/v1/containers/${container}/logs`).query({ limit: 10 }).expect(200)).body as LogsJson;
      expect(small).toEqual({ lines: [{ stream: 'stdout', line: '000001' }, { stream: 'stdout', line: '000' }], truncated: true });
      const big = (await admin().get(`/v1/containers/${container}/logs`).query({ limit: LOGS_CAP * 10 }).expect(200)).body as LogsJson;
      expect(outputBytes(big)).toBe(LOGS_CAP);
    });

    it('gives the last lines with tail, and nothing with since in the future', async () => {
      const tail = (await admin().get(`/v1/containers/${container}/logs`).query({ tail: 3 }).expect(200)).body as LogsJson;
      expect(tail).toEqual({
        lines: ['099998', '099999', '100000'].map((line) => ({ stream: 'stdout', line })),
        truncated: false,
      });
      const future = Math.floor(Date.now() / 1000) + 3600;
      const since = (await admin().get(`/v1/containers/${container}/logs`).query({ since: String(future) }).expect(200)).body as LogsJson;
      expect(since).toEqual({ lines: [], truncated: false });
      const recent = (await admin().get(`/v1/containers/${container}/logs`).query({ since: '1h', tail: 1 }).expect(200)).body as LogsJson;
      expect(recent.lines).toEqual([{ stream: 'stdout', line: '100000' }]);
    });

    it('refuses a since it cannot read with 400', async () => {
      const res = await admin().get(`/v1/containers/${container}/logs`).query({ since: 'yesterday' });
      expect({ status: res.status, code: res.body?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    });
  });
});

/** Counts the events each replay read from Redis takes, in the given app. */
function countStoreReads(app: RunningApp): number[] {
  const store = app.app.get(JobEventStore);
  const reads: number[] = [];
  const range = store.range.bind(store);
  store.range = async (jobId: string, from?: number, limit?: number): Promise<JobEvent[]> => {
    const events = await range(jobId, from, limit);
    reads.push(events.length);
    return events;
  };
  return reads;
}

/** Opens the SSE stream and leaves the body unread. */
function sseResponse(app: RunningApp, jobId: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpGet(`${app.url}/v1/jobs/${jobId}/events`, { headers: { authorization: `Bearer ${app.token}` } }, (response) => {
      response.pause();
      resolve(response);
    });
    request.on('error', reject);
  });
}

async function bodyOf(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  return text;
}

function parseSse(text: string): JobEventJson[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line.slice('data: '.length)) as JobEventJson);
}

/**
 * Upgrades with only the legacy `graphql-ws` subprotocol, which no server
 * serves (a `ws` client gives up on its own when no subprotocol is agreed),
 * and answers the code of the close frame the server sends.
 */
function legacyCloseCode(app: RunningApp): Promise<number> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        [
          'GET /graphql HTTP/1.1',
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          'Sec-WebSocket-Protocol: graphql-ws',
          '',
          '',
        ].join('\r\n'),
      );
    });
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const head = received.indexOf('\r\n\r\n');
      // After the 101 answer: a close frame (0x88), its length, then the code.
      const frame = head >= 0 ? received.subarray(head + 4) : Buffer.alloc(0);
      if (frame.length >= 4 && frame[0] === 0x88) {
        socket.destroy();
        resolve(frame.readUInt16BE(2));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed without a close frame: ${received.toString('latin1').slice(0, 200)}`)));
  });
}
