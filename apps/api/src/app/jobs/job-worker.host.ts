import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ImageCatalog } from '@drydock/docker';
import { ExclusiveLeases, JOB_TYPES, JobEventBus, JobEventStore, JobRecordStore, JobWorker, RedisOutage, TeamSlots, type JobHandler, type JobType, type RedisClient } from '@drydock/jobs';
import { AuditLog } from '../audit/audit.service';
import { jobEndingEntry } from '../audit/job-ending';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { JobHandlerProvider } from './job-handler.decorator';
import { logJobsError } from './jobs-log';
import { JOBS_REDIS } from './jobs.tokens';

/**
 * The worker, with every handler the feature modules' worker parts provide.
 * Built once all providers exist, so that it sees them all; a type with no
 * handler, or two, stops the start-up. Only the job-running roles have one.
 */
@Injectable()
export class JobWorkerHost implements OnModuleInit, OnModuleDestroy {
  private current: JobWorker | null = null;
  private stopWatching: (() => void) | null = null;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JOBS_REDIS) private readonly redis: RedisClient,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(TeamSlots) private readonly slots: TeamSlots,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
  ) {}

  get worker(): JobWorker | null {
    return this.current;
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
    this.current = new JobWorker({
      connection: this.config.redis,
      records,
      events: new JobEventStore(this.redis, stores),
      outage,
      // Every job's end goes to the audit trail. Nest shuts modules down in reverse order of start,
      // so the requests' Redis connection outlives the worker's drain at SIGTERM.
      onJobEnded: (job) => this.audit.record(jobEndingEntry(job)),
      bus: this.bus,
      handlers,
      slots: this.slots,
      // Pushes of one repository, one at a time (PushJob.exclusive).
      leases: new ExclusiveLeases(this.redis, records),
      maxRunningPerTeam: this.config.teamMaxRunning,
      concurrency: workerConcurrency(this.config.teamMaxRunning),
      timeoutMs: perTypeMs(this.config.jobTimeoutSeconds),
      logBudget: this.config.jobLogBudget,
      onError: logJobsError,
      // The catalogue follows the engine's event stream: while it cannot, the engine is away,
      // and a job started then would only use up an attempt.
      canRun: () => this.catalog.isLive,
    });
    const worker = this.current;
    this.stopWatching = this.catalog.onLiveChange((live) => {
      if (live) worker.resume();
      else worker.pause().catch((error: unknown) => logJobsError(error as Error));
    });
  }

  onModuleDestroy(): void {
    this.stopWatching?.();
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
