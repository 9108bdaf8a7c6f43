import { JobKeys, JobType, queueNameFor } from '@drydock/jobs';
import { Job, Queue } from 'bullmq';
import { removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { processFleet, type Fleet } from '../support/fleet';
import { eventually } from '../support/graphql';
import { waitForJob } from '../support/jobs';
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from '../support/otlp-receiver';
import type { DrydockProcess } from '../support/process';

/** The span's ancestors, nearest first, as far as the spans received go. */
function ancestors(span: ReceivedSpan, all: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let parent = all.find((s) => s.spanId === span.parentSpanId); parent; parent = all.find((s) => s.spanId === parent?.parentSpanId)) {
    chain.push(parent);
  }
  return chain;
}

async function post(api: DrydockProcess, token: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function build(api: DrydockProcess, token: string, tag: string): Promise<string> {
  // The legacy builder: its engine call is one `/build` request.
  const response = await post(api, token, '/v1/builds', { dockerfile: `FROM ${testEnv.fixture}\nRUN true`, tags: [tag], noCache: true, builder: 'LEGACY' });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/**
 * API and worker as two processes exporting OTLP/JSON to a receiver in the
 * test: the trace context crosses from one to the other through the job in
 * Redis, as it does in a deployment.
 */
describe('traces', () => {
  const ns = uniqueNamespace('e2e-traces');
  let receiver: OtlpReceiver;
  let fleet: Fleet;
  let api: DrydockProcess;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    fleet = processFleet('traces', () => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Batches leave every 100 ms rather than every 5 s: the test waits for spans, not for a timer.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }));
    api = await fleet.start('api');
    await fleet.start('worker');
  });
  afterAll(async () => {
    await fleet?.stop();
    await receiver?.close();
    removeImagesUnder(ns);
  });

  it("follows one build in one trace: the HTTP request, its enqueue, the worker's job span and the engine call", async () => {
    const id = await build(api, fleet.token, `${ns}/app:1`);
    expect((await waitForJob(api.url, fleet.token, id)).state).toBe('SUCCEEDED');

    const { job, engine, all } = await eventually(
      async () => {
        const job = receiver.spans.find((s) => s.name === 'job build' && s.attributes['drydock.job.id'] === id);
        const all = receiver.spans.filter((s) => s.traceId === job?.traceId);
        const engine = all.find((s) => s.name === 'engine build');
        const http = all.find((s) => s.kind === SPAN_KIND.SERVER);
        return job && engine && http ? { job, engine, all } : undefined;
      },
      30_000,
      "the build's spans to be exported",
    );

    // The worker's span, in the worker's process, is the child of the enqueue span the API's request made.
    expect(job).toMatchObject({ service: 'drydock-worker', kind: SPAN_KIND.CONSUMER });
    expect(job.attributes).toMatchObject({ 'drydock.job.type': 'BUILD', 'drydock.engine.name': 'default', 'drydock.team': 'ops', 'drydock.job.attempt': 1 });
    const [enqueue, ...above] = ancestors(job, all);
    expect(enqueue).toMatchObject({ name: 'enqueue build', service: 'drydock-api', kind: SPAN_KIND.PRODUCER });
    const http = above.at(-1);
    expect(http).toMatchObject({ name: 'POST /v1/builds', service: 'drydock-api', kind: SPAN_KIND.SERVER, parentSpanId: '' });
    expect(http?.attributes['http.route']).toBe('/v1/builds');
    expect(above.every((s) => s.service === 'drydock-api')).toBe(true);

    // The engine call is under the job's span, named by its operation.
    expect(engine).toMatchObject({ service: 'drydock-worker', kind: SPAN_KIND.CLIENT, attributes: { 'drydock.engine.name': 'default', 'drydock.engine.operation': 'build' } });
    expect(ancestors(engine, all)).toContainEqual(job);
    // One trace: every span of the build, in both processes, has the request's trace id.
    expect(new Set([http, enqueue, job, engine].map((s) => s?.traceId)).size).toBe(1);
    // The worker's Redis work for the job is in the trace too (the job's record, its events).
    expect(all.some((s) => s.service === 'drydock-worker' && s.attributes['db.system.name'] === 'redis')).toBe(true);
  });

  it('traces a GraphQL operation, with the Redis commands it made, under its HTTP request', async () => {
    const response = await post(api, fleet.token, '/graphql', { query: 'query RecentJobs { jobs(limit: 1) { id } }' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();

    const { execute, all } = await eventually(
      async () => {
        const execute = receiver.spans.find((s) => s.name === 'query RecentJobs' || (s.name === 'graphql.execute' && s.attributes['graphql.operation.name'] === 'RecentJobs'));
        const all = receiver.spans.filter((s) => s.traceId === execute?.traceId);
        return execute && all.some((s) => s.kind === SPAN_KIND.SERVER) && all.some((s) => s.attributes['db.system.name'] === 'redis') ? { execute, all } : undefined;
      },
      30_000,
      'the GraphQL spans to be exported',
    );
    expect(execute.attributes['graphql.operation.type']).toBe('query');
    expect(ancestors(execute, all).at(-1)).toMatchObject({ name: 'POST /graphql', kind: SPAN_KIND.SERVER });
    const redis = all.filter((s) => s.attributes['db.system.name'] === 'redis');
    // Commands alone: their arguments (job data, sealed secrets) stay out of the spans.
    expect(redis.every((s) => !String(s.attributes['db.query.text'] ?? '').includes(' '))).toBe(true);
  });

  it('never puts the bearer token in a span', () => {
    expect(receiver.spans.length).toBeGreaterThan(0);
    expect(JSON.stringify(receiver.spans)).not.toContain(fleet.token);
  });

  it('exports the spans it still holds when it stops, under the service OTEL_SERVICE_NAME names', async () => {
    const stopping = processFleet('traces-flush', () => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'drydock-flush',
      // No batch leaves on its own while the test runs: only the shutdown sends it.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    }));
    try {
      const held = await stopping.start('api');
      const response = await fetch(`${held.url}/v1/jobs`, { headers: { authorization: `Bearer ${stopping.token}` } });
      expect(response.status).toBe(200);
      expect(receiver.spans.filter((s) => s.service === 'drydock-flush')).toEqual([]);
      held.child.kill('SIGTERM');
      expect(await held.exited).not.toBe(1);
      expect(receiver.spans.filter((s) => s.service === 'drydock-flush').map((s) => s.name)).toContain('GET /v1/jobs');
    } finally {
      await stopping.stop();
    }
  });
});

describe('traces, when no OTEL variable asks for them', () => {
  let fleet: Fleet;
  let api: DrydockProcess;

  beforeAll(async () => {
    fleet = processFleet('traces-off');
    api = await fleet.start('api');
  });
  afterAll(() => fleet?.stop());

  it('starts no SDK and queues jobs without trace context', async () => {
    expect(api.output()).toContain('traces off');
    const id = await build(api, fleet.token, `${uniqueNamespace('e2e-traces-off')}/app:1`);
    // No worker: the job waits in BullMQ exactly as it was queued.
    const queue = new Queue(queueNameFor(JobType.BUILD), { connection: { url: testEnv.redisUrl }, prefix: new JobKeys(fleet.prefix).bullPrefix });
    try {
      const job = await Job.fromId(queue, id);
      expect(job?.data).toBeDefined();
      expect(job?.data).not.toHaveProperty('trace');
    } finally {
      await queue.close();
    }
  });
});
