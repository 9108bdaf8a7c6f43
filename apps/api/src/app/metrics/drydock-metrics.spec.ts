import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { DrydockMetrics } from './drydock-metrics';

function job(fields: Partial<JobRecord>): JobRecord {
  return {
    id: 'j1', type: JobType.RUN, state: JobState.SUCCEEDED, progress: 1, createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:04.000Z', request: {}, result: null, error: null,
    team: 'team-a', owner: 'ana', attempts: 1, engine: 'east', ...fields,
  };
}

/** A sample's value: `name` is the sample's (`x_count`), its family's name is `name` without the histogram suffix. */
async function value(metrics: DrydockMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const values = (await metrics.registry.getSingleMetric(family)?.get())?.values ?? [];
  return values.find((v) => ((v as { metricName?: string }).metricName ?? family) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('DrydockMetrics', () => {
  it('counts a job\'s end by type, state and engine, and times it from its start', async () => {
    const metrics = new DrydockMetrics();
    metrics.jobEnded(job({}));
    metrics.jobEnded(job({ id: 'j2', state: JobState.CANCELLED, startedAt: null, engine: undefined }));
    expect(await value(metrics, 'drydock_jobs_total', { type: 'RUN', state: 'SUCCEEDED', engine: 'east' })).toBe(1);
    expect(await value(metrics, 'drydock_jobs_total', { type: 'RUN', state: 'CANCELLED', engine: 'default' })).toBe(1);
    expect(await value(metrics, 'drydock_job_duration_seconds_sum', { type: 'RUN', state: 'SUCCEEDED' })).toBe(3);
    // Never started: counted, not timed.
    expect(await value(metrics, 'drydock_job_duration_seconds_count', { state: 'CANCELLED' })).toBeUndefined();
  });

  it('times only events written after the subscriber came: a replay\'s age is no delivery latency', async () => {
    const metrics = new DrydockMetrics();
    const subscribedAt = Date.now();
    metrics.eventDelivered('sse', new Date(subscribedAt - 60_000).toISOString(), subscribedAt);
    metrics.eventDelivered('sse', new Date(subscribedAt).toISOString(), subscribedAt);
    expect(await value(metrics, 'drydock_job_event_delivery_seconds_count', { transport: 'sse' })).toBe(1);
  });

  it('answers a scrape without the queue gauge when the counts do not come in time', async () => {
    const metrics = new DrydockMetrics(50);
    metrics.watchQueues(() => new Promise(() => undefined));
    const started = Date.now();
    const text = await metrics.render();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(text).toContain('# TYPE drydock_queue_waiting_jobs gauge');
    expect(text).not.toMatch(/^drydock_queue_waiting_jobs\{/m);

    metrics.watchQueues(async () => [{ type: JobType.PULL, engine: 'east', waiting: 3 }]);
    expect(await metrics.render()).toMatch(/^drydock_queue_waiting_jobs\{type="PULL",engine="east"\} 3$/m);
  });

  it('keeps each app\'s counts apart in one process, with Node\'s metrics in both', async () => {
    const [a, b] = [new DrydockMetrics(), new DrydockMetrics()];
    a.jobEnded(job({}));
    expect(await value(b, 'drydock_jobs_total', {})).toBeUndefined();
    expect(await b.render()).toContain('drydock_process_cpu_user_seconds_total');
  });
});
