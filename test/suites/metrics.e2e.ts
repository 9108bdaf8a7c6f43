import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsServer } from '../../apps/api/src/app/metrics/metrics-server';
import { startApp, writeTokensFile, type RunningApp } from '../support/app';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { api } from '../support/http';
import { readSse, waitForJob } from '../support/jobs';
import { expectProblem } from '../support/problem';
import { parsePrometheusText, samples, total, type Family } from '../support/prometheus-text';

const JOB_TYPES = ['BUILD', 'RUN', 'PULL', 'PUSH', 'EXPORT'];

async function scrape(url: string, token?: string): Promise<Map<string, Family>> {
  const response = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

/** drydock_jobs_total by `type/state/engine`. */
function jobCounts(families: Map<string, Family>): Record<string, number> {
  return Object.fromEntries(samples(families, 'drydock_jobs_total').map((s) => [`${s.labels['type']}/${s.labels['state']}/${s.labels['engine']}`, s.value]));
}

function moved(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) if (value !== (before[key] ?? 0)) delta[key] = value - (before[key] ?? 0);
  return delta;
}

describe('metrics', () => {
  let running: RunningApp;
  let metricsUrl: string;

  beforeAll(async () => {
    running = await startApp({ METRICS_PORT: '0' }, { tokens: [{ name: 'viewer', team: 'team-a', role: 'viewer' }] });
    const address = running.app.get(MetricsServer).address();
    if (!address) throw new Error('no metrics listener');
    metricsUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => running?.close());

  it('refuses /metrics without a token (401) and for a viewer (403), as problems', async () => {
    const anonymous = await fetch(`${running.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expectProblem(await api(running, running.tokens['viewer']).get('/metrics'), 403, 'FORBIDDEN');
  });

  it('counts exactly the jobs it ran, by type, state and engine, and times them', async () => {
    const before = jobCounts(await scrape(running.url, running.token));
    const ok = await api(running).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['sh', '-c', 'sleep 1; true'] }).expect(202);
    // Followed from the start: the events written while it runs are delivered live, and timed.
    const stream = readSse(running.url, running.token, ok.body.id as string);
    const failing = await api(running).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['false'] }).expect(202);
    const pull = await api(running).post('/v1/images/pull').send({ reference: testEnv.fixture }).expect(202);
    const ended = await Promise.all([ok, failing, pull].map((res) => waitForJob(running.url, running.token, res.body.id as string)));
    expect(ended.map((job) => `${job.type}/${job.state}`)).toEqual(['RUN/SUCCEEDED', 'RUN/FAILED', 'PULL/SUCCEEDED']);
    await stream;

    const expected = { 'RUN/SUCCEEDED/default': 1, 'RUN/FAILED/default': 1, 'PULL/SUCCEEDED/default': 1 };
    // The record shows the end a moment before the ending's hooks (where the count is) have run.
    const after = await eventually(async () => {
      const families = await scrape(running.url, running.token);
      const delta = moved(before, jobCounts(families));
      return Object.values(delta).reduce((a, b) => a + b, 0) >= 3 ? families : undefined;
    }, 10_000, 'the job counters to move');
    expect(moved(before, jobCounts(after))).toEqual(expected);
    expect(total(after, 'drydock_job_duration_seconds_count', { type: 'RUN', state: 'SUCCEEDED', engine: 'default' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'drydock_job_duration_seconds_sum', { type: 'RUN', state: 'SUCCEEDED', engine: 'default' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'drydock_job_event_delivery_seconds_count', { transport: 'sse' })).toBeGreaterThan(0);
    expect(total(after, 'drydock_engine_request_duration_seconds_count', { engine: 'default', operation: 'container.create' })).toBeGreaterThanOrEqual(2);
    expect(total(after, 'drydock_engine_request_duration_seconds_count', { engine: 'default', operation: 'image.pull' })).toBeGreaterThanOrEqual(1);
  });

  it('labels HTTP requests with the route pattern, never the URL', async () => {
    const id = randomUUID();
    await api(running).get(`/v1/jobs/${id}`).expect(404);
    await api(running).get(`/no-such-route-${id}`).expect(404);
    const families = await scrape(running.url, running.token);
    const routes = samples(families, 'drydock_http_request_duration_seconds_count').map((s) => s.labels['route']);
    expect(total(families, 'drydock_http_request_duration_seconds_count', { route: '/v1/jobs/:id', method: 'GET', status: '404' })).toBe(1);
    expect(total(families, 'drydock_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    expect(routes).toContain('/v1/containers');
    expect(routes.filter((route) => route?.includes(id))).toEqual([]);
  });

  it('shows each queue\'s waiting jobs by type and engine, Node\'s own metrics, and the webhook counter', async () => {
    const families = await scrape(running.url, running.token);
    const queues = samples(families, 'drydock_queue_waiting_jobs').map((s) => `${s.labels['type']}@${s.labels['engine']}`);
    expect(queues.sort()).toEqual(JOB_TYPES.map((type) => `${type}@default`).sort());
    expect(families.get('drydock_queue_waiting_jobs')?.type).toBe('gauge');
    expect(families.get('drydock_process_resident_memory_bytes')?.samples.length).toBe(1);
    expect(families.get('drydock_webhook_deliveries_total')?.type).toBe('counter');
  });

  it('serves the same text without a token on METRICS_PORT, and nothing else there', async () => {
    const families = await scrape(metricsUrl);
    expect(families.has('drydock_jobs_total')).toBe(true);
    const other = await fetch(`${metricsUrl}/v1/jobs`);
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
  });

  it('reads a malformed exposition as an error (the checker can fail)', () => {
    expect(() => parsePrometheusText('x{a="1"} 1\nx{a="1"} 2\n')).toThrow(/twice/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('x{a=1} 1\n')).toThrow(/label/);
    expect(() => parsePrometheusText('x 1')).toThrow(/newline/);
  });
});

/** API and worker apps sharing one Redis: a job is counted by the process that ended it, once. */
describe('metrics of a worker', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-metrics-'));
  const { file, tokens } = writeTokensFile(dataDir, [
    { name: 'admin', team: 'ops', role: 'admin' },
    { name: 'viewer', team: 'team-a', role: 'viewer' },
  ]);
  const admin = tokens['admin'] as string;
  const shared = { DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`, DRYDOCK_TOKENS_FILE: file, DRYDOCK_DATA_DIR: dataDir };
  let apiApp: RunningApp;
  let workerApp: RunningApp;

  beforeAll(async () => {
    apiApp = await startApp({ ...shared, DRYDOCK_ROLE: 'api' });
    workerApp = await startApp({ ...shared, DRYDOCK_ROLE: 'worker' });
  });
  afterAll(async () => {
    await workerApp?.close();
    await apiApp?.close();
  });

  it('asks for the admin token on the worker\'s port too', async () => {
    expectProblem(await api(workerApp, '').get('/metrics'), 401, 'UNAUTHENTICATED');
    expectProblem(await api(workerApp, tokens['viewer']).get('/metrics'), 403, 'FORBIDDEN');
    expect((await scrape(workerApp.url, admin)).has('drydock_queue_waiting_jobs')).toBe(true);
  });

  it('counts a job in the worker that ran it and not in the API that queued it', async () => {
    const [apiBefore, workerBefore] = [jobCounts(await scrape(apiApp.url, admin)), jobCounts(await scrape(workerApp.url, admin))];
    const accepted = await api(apiApp, admin).post('/v1/containers').send({ image: testEnv.fixture, cmd: ['true'] }).expect(202);
    expect((await waitForJob(apiApp.url, admin, accepted.body.id as string)).state).toBe('SUCCEEDED');
    await eventually(async () => (Object.keys(moved(workerBefore, jobCounts(await scrape(workerApp.url, admin)))).length ? true : undefined), 10_000, 'the worker to count the job');
    expect(moved(workerBefore, jobCounts(await scrape(workerApp.url, admin)))).toEqual({ 'RUN/SUCCEEDED/default': 1 });
    expect(moved(apiBefore, jobCounts(await scrape(apiApp.url, admin)))).toEqual({});
  });
});
