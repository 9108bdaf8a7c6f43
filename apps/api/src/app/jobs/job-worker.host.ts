import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { JobEventBus, JobEventStore, JobRecordStore, JobWorker, type JobHandler } from '@drydock/jobs';
import { AuditLog } from '../audit/audit.service';
import { jobEndingEntry } from '../audit/job-ending';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { JobHandlerProvider } from './job-handler.decorator';
import { logJobsError } from './jobs-log';
import { redisOptionsFromUrl } from './jobs.tokens';

/**
 * The worker, with every handler the feature modules' worker parts provide.
 * Built once all providers exist, so that it sees them all; a type with no
 * handler, or two, stops the start-up. Only the job-running roles have one.
 */
@Injectable()
export class JobWorkerHost implements OnModuleInit {
  private current: JobWorker | null = null;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JobRecordStore) private readonly records: JobRecordStore,
    @Inject(JobEventStore) private readonly events: JobEventStore,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  get worker(): JobWorker | null {
    return this.current;
  }

  onModuleInit(): void {
    const handlers = this.discovery
      .getProviders({ metadataKey: JobHandlerProvider.KEY })
      .map((wrapper) => wrapper.instance as JobHandler);
    this.current = new JobWorker({
      connection: redisOptionsFromUrl(this.config.redisUrl),
      records: this.records,
      events: this.events,
      // Every job's end goes to the audit trail. Nest shuts modules down in reverse order of start,
      // so the requests' Redis connection outlives the worker's drain at SIGTERM.
      onJobEnded: (job) => this.audit.record(jobEndingEntry(job)),
      bus: this.bus,
      handlers,
      logBudget: this.config.jobLogBudget,
      onError: logJobsError,
    });
  }
}
