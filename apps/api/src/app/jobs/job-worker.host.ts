import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { EnginePool, type EngineMember } from '@drydock/docker';
import { ExclusiveLeases, JOB_TYPES, JobEventBus, JobEventStore, JobQueue, JobRecordStore, JobWorker, RedisOutage, TeamSlots, type JobHandler, type JobType, type RedisClient } from '@drydock/jobs';
import { AuditLog } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { onJobEnded, onJobQueuedOrStarted } from './job-ended';
import { WebhookDispatcher } from '../webhooks/webhook-queue';
import { JobHandlerProvider } from './job-handler.decorator';
import { logJobsError } from './jobs-log';
import { JOBS_REDIS } from './jobs.tokens';

/**
 * The workers, one per engine this process serves (DRYDOCK_WORKER_ENGINES),
 * with every handler the feature modules' worker parts provide. Built once
 * all providers exist, so that they see them all; a type with no handler, or
 * two, stops the start-up. Only the job-running roles have them.
 */
@Injectable()
export class JobWorkerHost implements OnModuleInit, OnModuleDestroy {
  private current: JobWorker[] = [];
  private readonly stopWatching: (() => void)[] = [];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JOBS_REDIS) private readonly redis: RedisClient,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(TeamSlots) private readonly slots: TeamSlots,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(EnginePool) private readonly engines: EnginePool,
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher,
    @Optional() @Inject(DrydockMetrics) private readonly metrics: DrydockMetrics | null = null,
  ) {}

  get workers(): readonly JobWorker[] {
    return this.current;
  }

  /** Resolves once every engine's worker takes jobs. */
  async whenReady(): Promise<void> {
    await Promise.all(this.current.map((worker) => worker.whenReady()));
  }

  async close(deadlineMs: number): Promise<void> {
    await Promise.all(this.current.map((worker) => worker.close(deadlineMs)));
  }

  onModuleInit(): void {
    const handlers = this.discovery
      .getProviders({ metadataKey: JobHandlerProvider.KEY })
      .map((wrapper) => wrapper.instance as JobHandler);
    // The worker's own stores ride through Redis outages; the API's fail fast with 503.
    const outage = new RedisOutage(this.config.redisGraceSeconds * 1000);
    this.redis.on('close', () => outage.markUnreachable());
    this.redis.on('ready', () => outage.markReachable());
    const stores = { prefix: this.config.keyPrefix, retentionMs: this.config.jobRetentionSeconds * 1000, ride: outage.ride };
    const records = new JobRecordStore(this.redis, stores);
    const events = new JobEventStore(this.redis, stores);
    const leases = new ExclusiveLeases(this.redis, records);
    this.current = this.config.workerEngines.map((name) => this.workerFor(this.engines.get(name), { handlers, outage, records, events, leases }));
  }

  private workerFor(
    member: EngineMember,
    shared: { handlers: JobHandler[]; outage: RedisOutage; records: JobRecordStore; events: JobEventStore; leases: ExclusiveLeases },
  ): JobWorker {
    const { handlers, outage, records, events, leases } = shared;
    // An engine's own limit holds across every worker that serves it: BullMQ's global concurrency of its queues.
    this.queue.limitEngine(member.name, member.spec.concurrency).catch((error: unknown) => logJobsError(error as Error));
    const worker = new JobWorker({
      engine: member.name,
      connection: this.config.redis,
      records,
      events,
      outage,
      // Every job's end goes to the audit trail and the metrics. Nest shuts modules down in reverse order
      // of start, so the requests' Redis connection outlives the worker's drain at SIGTERM.
      onJobEnded: onJobEnded(this.audit, this.metrics, this.webhooks),
      onJobStarted: onJobQueuedOrStarted(this.webhooks).onJobStarted,
      bus: this.bus,
      handlers,
      slots: this.slots,
      // Pushes of one repository, one at a time (PushJob.exclusive).
      leases,
      maxRunningPerTeam: this.config.teamMaxRunning,
      concurrency: workerConcurrency(this.config.teamMaxRunning),
      timeoutMs: perTypeMs(this.config.jobTimeoutSeconds),
      logBudget: this.config.jobLogBudget,
      onError: logJobsError,
      // The catalogue follows the engine's event stream: while it cannot, the engine is away,
      // and a job started then would only use up an attempt. Other engines' workers go on.
      canRun: () => member.catalog.isLive,
    });
    this.stopWatching.push(
      member.catalog.onLiveChange((live) => {
        if (live) worker.resume();
        else worker.pause().catch((error: unknown) => logJobsError(error as Error));
      }),
    );
    return worker;
  }

  onModuleDestroy(): void {
    for (const stop of this.stopWatching.splice(0)) stop();
  }
}

/**
 * Twice one team's running limit per type (at least 2): a team at its limit
 * fills at most half of a process's slots, so another team's job still starts.
 */
export function workerConcurrency(teamMaxRunning: Record<JobType, number>): Record<JobType, number> {
  return Object.fromEntries(JOB_TYPES.map((type) => [type, Math.max(2, 2 * teamMaxRunning[type])])) as Record<JobType, number>;
}

function perTypeMs(seconds: Record<JobType, number>): Record<JobType, number> {
  return Object.fromEntries(JOB_TYPES.map((type) => [type, seconds[type] * 1000])) as Record<JobType, number>;
}
