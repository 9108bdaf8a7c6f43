import { collect, wsClient } from '../../support/graphql';
import { readSse, waitForJob, type JobJson } from '../../support/jobs';
import { check, expectProblem, fetchAnswer, stuckClient, type HostileCase, type Target } from '../harness';

const LINE_CAP = 1024 * 1024;

async function run(target: Target, script: string): Promise<JobJson> {
  const answer = await target.request('POST', '/v1/containers', target.tokens.admin, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: target.fixture, cmd: ['sh', '-c', script] }),
  });
  check(answer.status === 202, `run answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const job = JSON.parse(answer.body) as JobJson;
  return waitForJob(target.url, target.tokens.admin, job.id, 120_000);
}

async function removeContainer(target: Target, job: JobJson): Promise<void> {
  const id = (job.result as { containerId?: string } | null)?.containerId;
  if (id) await target.request('DELETE', `/v1/containers/${id}?force=true`, target.tokens.admin);
}

/** A big job, made once and attacked by several cases. */
let flood: JobJson | undefined;
async function floodJob(target: Target): Promise<JobJson> {
  flood ??= await run(target, 'seq 1 200000');
  return flood;
}

export const output: HostileCase[] = [
  {
    defect: '#8.3 unbounded output',
    name: 'a run printing 200,000 lines stays within the event budget and says what it dropped',
    async run(target) {
      const job = await floodJob(target);
      check(job.state === 'SUCCEEDED', `the run ended ${job.state}`);
      const { events } = await readSse(target.url, target.tokens.admin, job.id, {}, 120_000);
      const logs = events.filter((event) => event.kind === 'LOG');
      check(logs.length < 200_000, `all ${logs.length} lines were kept as events`);
      check(
        events.some((event) => /dropped|budget/i.test(event.message ?? '')),
        'no event says that lines were dropped',
      );
    },
  },
  {
    defect: '#8.3 unbounded output',
    name: 'a 60 MB line with no newline becomes events of at most 1 MiB',
    async run(target) {
      const job = await run(target, "head -c 62914560 /dev/zero | tr '\\0' a");
      try {
        const { events } = await readSse(target.url, target.tokens.admin, job.id, {}, 120_000);
        const longest = Math.max(0, ...events.map((event) => Buffer.byteLength(event.message ?? '')));
        check(longest <= LINE_CAP + 64, `an event of ${longest} bytes`);
      } finally {
        await removeContainer(target, job);
      }
    },
  },
  {
    defect: '#8.4 SSE without backpressure',
    name: '30 SSE clients that never read a big job do not stop a reader from getting it whole',
    async run(target) {
      const job = await floodJob(target);
      const stuck = await Promise.all(
        Array.from({ length: 30 }, () =>
          stuckClient(target.port, `GET /v1/jobs/${job.id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${target.tokens.admin}\r\n\r\n`),
        ),
      );
      try {
        const { events } = await readSse(target.url, target.tokens.admin, job.id, {}, 120_000);
        check(events.at(-1)?.kind === 'STATE', 'the reader did not get to the terminal event');
      } finally {
        for (const socket of stuck) socket.destroy();
      }
    },
  },
  {
    defect: '#8.4 SSE without backpressure',
    name: '30 graphql-ws subscribers replaying a big job, all unsubscribed after the first event',
    async run(target) {
      const job = await floodJob(target);
      const wsUrl = `${target.url.replace('http', 'ws')}/graphql`;
      const clients = Array.from({ length: 30 }, () => wsClient(wsUrl, { authorization: `Bearer ${target.tokens.admin}` }));
      try {
        await Promise.all(
          clients.map((client) => collect(client, 'subscription($id: ID!) { jobEvents(jobId: $id) { sequence } }', { id: job.id }, (items) => items.length >= 1, 60_000)),
        );
      } finally {
        await Promise.all(clients.map((client) => client.dispose()));
      }
    },
  },
  ...['1e308', '99999999999999999999', '-1', '1.5', 'NaN', '0x10', '+4', '3a', '9007199254740993'].map(
    (value): HostileCase => ({
      defect: '#8.16 Last-Event-ID out of range',
      name: `Last-Event-ID: ${value} is a 400 before the stream starts`,
      async run(target) {
        const job = await floodJob(target);
        const answer = await fetchAnswer(`${target.url}/v1/jobs/${job.id}/events`, {
          headers: { authorization: `Bearer ${target.tokens.admin}`, 'last-event-id': value },
        });
        expectProblem(answer, 400, 'VALIDATION_FAILED');
      },
    }),
  ),
  {
    defect: '#8.6 container logs unbounded',
    name: 'the logs of a container that printed 98 MB come back capped, to a reader and past stuck readers',
    async run(target) {
      const job = await run(target, "head -c 102760448 /dev/zero | tr '\\0' 'x' | fold -w 1000");
      const id = (job.result as { containerId?: string } | null)?.containerId;
      check(Boolean(id), `no container id in ${JSON.stringify(job.result)}`);
      const stuck = await Promise.all(
        Array.from({ length: 5 }, () =>
          stuckClient(target.port, `GET /v1/containers/${id}/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${target.tokens.admin}\r\n\r\n`),
        ),
      );
      try {
        const whole = await target.request('GET', `/v1/containers/${id}/logs`, target.tokens.admin);
        check(whole.status === 200, `logs answered ${whole.status}`);
        const logs = JSON.parse(whole.body) as { lines: Array<{ line: string }>; truncated: boolean };
        check(logs.truncated, 'a 98 MB log was not cut');
        check(whole.body.length < 32 * 1024 * 1024, `the answer held ${whole.body.length} bytes`);
        const tail = await target.request('GET', `/v1/containers/${id}/logs?tail=3`, target.tokens.admin);
        const tailed = JSON.parse(tail.body) as { lines: unknown[] };
        check(tail.status === 200 && tailed.lines.length === 3, `tail=3 answered ${tail.status} with ${tailed.lines.length} lines`);
      } finally {
        for (const socket of stuck) socket.destroy();
        await removeContainer(target, job);
      }
    },
  },
];
