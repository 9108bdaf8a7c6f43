import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobEventBus, JobEventStore, JobQueue, JobRecordStore, TeamSlots, type CredentialSource } from '@drydock/jobs';
import Redis from 'ioredis';
import { AuditLog } from '../audit/audit.service';
import { jobEndingEntry } from '../audit/job-ending';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { RegistriesModule } from '../registries/registries.module';
import { watchRedis } from '../redis/redis.module';
import { RegistryCredentials } from '../registries/registry-credentials.service';
import { JobWorkerHost } from './job-worker.host';
import { logJobsError } from './jobs-log';
import { JobsController } from './jobs.controller';
import { JobsResolver } from './jobs.resolver';
import { JobsService } from './jobs.service';
import { CREDENTIAL_SOURCE, JOBS_REDIS, redisOptionsFromUrl } from './jobs.tokens';

/** SIGTERM: running jobs get this long to finish before they are handed back to the queue. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/** Past the worker's own deadline, how long the queue and bus get to close before their sockets are cut. */
const CLOSE_GRACE_MS = 3_000;

/** Resolves when `work` does or after `ms`, whichever is first: shutdown must not wait on a Redis that is gone. */
function within(work: Promise<unknown> | undefined, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/**
 * Queues, stores and the event bus for every role; the worker only where the
 * role runs jobs (`all` or `worker`), with the handlers the feature modules
 * provide (JobHandlerProvider). Redis is the only state the roles share.
 */
@Global()
@Module({
  imports: [RegistriesModule, DiscoveryModule],
  providers: [
    {
      provide: JOBS_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => watchRedis(new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }), 'jobs'),
    },
    {
      provide: JobEventStore,
      inject: [JOBS_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: AppConfig) =>
        new JobEventStore(redis, { prefix: config.keyPrefix, retentionMs: config.jobRetentionSeconds * 1000 }),
    },
    {
      provide: JobRecordStore,
      inject: [JOBS_REDIS, APP_CONFIG],
      useFactory: (redis: Redis, config: AppConfig) =>
        new JobRecordStore(redis, { prefix: config.keyPrefix, retentionMs: config.jobRetentionSeconds * 1000 }),
    },
    {
      provide: TeamSlots,
      inject: [JOBS_REDIS, JobRecordStore],
      useFactory: (redis: Redis, records: JobRecordStore) => new TeamSlots(redis, records),
    },
    {
      provide: JobEventBus,
      inject: [JOBS_REDIS, JobEventStore],
      useFactory: (redis: Redis, events: JobEventStore) => new JobEventBus(redis, events, { onError: logJobsError }),
    },
    {
      provide: JobQueue,
      inject: [APP_CONFIG, JobRecordStore, JobEventStore, TeamSlots, AuditLog],
      useFactory: (config: AppConfig, records: JobRecordStore, events: JobEventStore, slots: TeamSlots, audit: AuditLog) =>
        new JobQueue({
          connection: redisOptionsFromUrl(config.redisUrl),
          records,
          events,
          slots,
          maxWaitingPerTeam: config.teamMaxWaiting,
          onError: logJobsError,
          onJobEnded: (job) => audit.record(jobEndingEntry(job)),
        }),
    },
    {
      // The worker asks the vault just before the engine call; job data only names team and registry.
      provide: CREDENTIAL_SOURCE,
      inject: [RegistryCredentials],
      useFactory: (vault: RegistryCredentials): CredentialSource => ({
        credentialFor: (team, registry) => (team ? vault.credentialFor(team, registry) : Promise.resolve(null)),
      }),
    },
    JobWorkerHost,
    JobsService,
    JobsResolver,
  ],
  controllers: [JobsController],
  exports: [JobsService, JobQueue, JobRecordStore, JobEventBus, CREDENTIAL_SOURCE],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(
    @Inject(JobWorkerHost) private readonly host: JobWorkerHost,
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(JOBS_REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await within(this.host.worker?.close(SHUTDOWN_DEADLINE_MS), SHUTDOWN_DEADLINE_MS + CLOSE_GRACE_MS);
    await within(Promise.all([this.queue.close(), this.bus.close()]), CLOSE_GRACE_MS);
    // BullMQ's own connections to a Redis that is gone cannot be closed (they wait to connect first);
    // the process exits anyway, as Nest re-raises the signal once the app has closed.
    this.redis.disconnect();
  }
}
