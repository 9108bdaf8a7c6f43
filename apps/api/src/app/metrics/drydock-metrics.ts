import type { JobRecord, JobType } from '@drydock/jobs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { processMetrics } from './process-metrics';

/** One queue's jobs waiting to start (queued, delayed for a retry, parked for the team's limit). */
export interface QueueDepth {
  type: JobType;
  engine: string;
  waiting: number;
}

export type QueueDepthSource = () => Promise<QueueDepth[]>;

export type EventTransport = 'sse' | 'graphql_ws';

const SECONDS_SHORT = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_JOB = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** How long a scrape waits for BullMQ's counts before it answers without the queue gauge. */
export const QUEUE_SCRAPE_TIMEOUT_MS = 2_000;

/**
 * Drydock's metrics, in a registry of this app's own (a process that builds
 * several apps, as tests do, keeps their counts apart), rendered together
 * with the process's Node metrics. Every label takes values from a bounded
 * set: route patterns, methods, statuses, job types and states, engine names
 * from the configuration, operation names from a fixed list.
 */
export class DrydockMetrics {
  readonly registry = new Registry();
  private queueDepth: QueueDepthSource | null = null;

  readonly httpDuration = new Histogram({
    name: 'drydock_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: SECONDS_SHORT,
    registers: [this.registry],
  });

  readonly jobsTotal = new Counter({
    name: 'drydock_jobs_total',
    help: 'Jobs ended, by type, final state and engine; counted once, by the process that ended the job',
    labelNames: ['type', 'state', 'engine'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'drydock_job_duration_seconds',
    help: 'From a job start to its end (jobs that never started are counted in drydock_jobs_total only)',
    labelNames: ['type', 'state', 'engine'] as const,
    buckets: SECONDS_JOB,
    registers: [this.registry],
  });

  readonly engineDuration = new Histogram({
    name: 'drydock_engine_request_duration_seconds',
    help: 'Requests to an engine until it answered (for a stream, until its headers), by engine and operation',
    labelNames: ['engine', 'operation'] as const,
    buckets: SECONDS_SHORT,
    registers: [this.registry],
  });

  readonly eventDelivery = new Histogram({
    name: 'drydock_job_event_delivery_seconds',
    help: 'From a job event being written to its write to a live subscriber, by transport',
    labelNames: ['transport'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'drydock_webhook_deliveries_total',
    // Registered ahead of the webhooks (issue 13, part 1), which will count their attempts here.
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(private readonly queueScrapeTimeoutMs = QUEUE_SCRAPE_TIMEOUT_MS) {
    const waiting: Gauge<'type' | 'engine'> = new Gauge({
      name: 'drydock_queue_waiting_jobs',
      help: 'Jobs waiting to start, by type and engine, from BullMQ at scrape time (the same from every process)',
      labelNames: ['type', 'engine'] as const,
      registers: [this.registry],
      collect: async () => {
        waiting.reset();
        for (const depth of await this.readQueueDepth()) waiting.set({ type: depth.type, engine: depth.engine }, depth.waiting);
      },
    });
  }

  /** Where the queue gauge reads from: the app's job queue, once it exists. */
  watchQueues(source: QueueDepthSource): void {
    this.queueDepth = source;
  }

  jobEnded(job: JobRecord): void {
    const labels = { type: job.type, state: job.state, engine: job.engine ?? 'default' };
    this.jobsTotal.inc(labels);
    if (job.startedAt && job.finishedAt) {
      const seconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000;
      if (seconds >= 0) this.jobDuration.observe(labels, seconds);
    }
  }

  engineRequest(engine: string, operation: string, seconds: number): void {
    this.engineDuration.observe({ engine, operation }, seconds);
  }

  /**
   * An event just written to a subscriber. Only events written after the
   * subscriber came count: a replay's age is not a delivery's latency.
   */
  eventDelivered(transport: EventTransport, at: string, subscribedAt: number): void {
    const written = Date.parse(at);
    if (!(written >= subscribedAt)) return;
    this.eventDelivery.observe({ transport }, Math.max(0, Date.now() - written) / 1000);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: this app's metrics and the process's. */
  render(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  /** Empty when the counts do not come in time or Redis fails: a scrape never hangs on Redis. */
  private async readQueueDepth(): Promise<QueueDepth[]> {
    if (!this.queueDepth) return [];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<QueueDepth[]>((resolve) => {
      timer = setTimeout(() => resolve([]), this.queueScrapeTimeoutMs);
    });
    try {
      return await Promise.race([this.queueDepth().catch(() => []), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
