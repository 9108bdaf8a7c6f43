import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { JobEventBus, JobEventStore, JobQueue, JobRecordStore, TeamSlots, connectRedis, type CredentialSource, type RedisClient } from '@drydock/jobs';
import { EnginePool } from '@drydock/docker';
import { AuditModule } from '../audit/audit.module';
import { EngineModule } from '../engine/engine.module';
import { EngineRouter } from '../engine/engine-router';
import { AuditLog } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { onJobEnded, onJobQueuedOrStarted } from './job-ended';
import { WebhookDispatcher } from '../webhooks/webhook-queue';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { watchRedis } from '../redis/redis.module';
import { RegistryCredentialsModule } from '../registries/registry-credentials.module';
import { RegistryCredentials } from '../registries/registry-credentials.service';
import { BuildSecretsModule } from '../secrets/build-secrets.module';
import { logJobsError } from './jobs-log';
import { JobsService } from './jobs.service';
import { CREDENTIAL_SOURCE, JOBS_REDIS } from './jobs.tokens';
import { CLOSE_GRACE_MS, within } from './within';

/**
 * Queues, stores and the event bus, for every role: the API enqueues and
 * reads, the workers (JobWorkerModule) run. It knows no feature: handlers come
 * from the feature modules' worker parts. Redis is the only state the roles share.
 */
@Module({
  imports: [AuditModule, RegistryCredentialsModule, BuildSecretsModule, EngineModule, WebhooksModule],
  providers: [
    {
      provide: JOBS_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => watchRedis(connectRedis(config.redis, { maxRetriesPerRequest: 2 }), 'jobs'),
    },
    {
      provide: JobEventStore,
      inject: [JOBS_REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) =>
        new JobEventStore(redis, { prefix: config.keyPrefix, retentionMs: config.jobRetentionSeconds * 1000 }),
    },
    {
      provide: JobRecordStore,
      inject: [JOBS_REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) =>
        new JobRecordStore(redis, { prefix: config.keyPrefix, retentionMs: config.jobRetentionSeconds * 1000 }),
    },
    {
      provide: TeamSlots,
      inject: [JOBS_REDIS, JobRecordStore],
      useFactory: (redis: RedisClient, records: JobRecordStore) => new TeamSlots(redis, records),
    },
    {
      provide: JobEventBus,
      inject: [JOBS_REDIS, JobEventStore],
      useFactory: (redis: RedisClient, events: JobEventStore) => new JobEventBus(redis, events, { onError: logJobsError }),
    },
    {
      provide: JobQueue,
      inject: [APP_CONFIG, JobRecordStore, JobEventStore, TeamSlots, AuditLog, WebhookDispatcher, { token: DrydockMetrics, optional: true }],
      useFactory: (
        config: AppConfig,
        records: JobRecordStore,
        events: JobEventStore,
        slots: TeamSlots,
        audit: AuditLog,
        webhooks: WebhookDispatcher,
        metrics?: DrydockMetrics,
      ) => {
        const queue = new JobQueue({
          connection: config.redis,
          records,
          events,
          slots,
          engines: config.engines.map((engine) => engine.name),
          maxWaitingPerTeam: config.teamMaxWaiting,
          onError: logJobsError,
          onJobEnded: onJobEnded(audit, metrics ?? null, webhooks),
          ...onJobQueuedOrStarted(webhooks),
        });
        metrics?.watchQueues(() => queue.waitingCounts());
        return queue;
      },
    },
    {
      // The worker asks the vault just before the engine call; job data only names team and registry.
      provide: CREDENTIAL_SOURCE,
      inject: [RegistryCredentials],
      useFactory: (vault: RegistryCredentials): CredentialSource => ({
        credentialFor: (team, registry) => (team ? vault.credentialFor(team, registry) : Promise.resolve(null)),
      }),
    },
    {
      provide: EngineRouter,
      inject: [EnginePool, JobQueue],
      useFactory: (pool: EnginePool, queue: JobQueue) => new EngineRouter(pool, (engine) => queue.load(engine)),
    },
    JobsService,
  ],
  exports: [WebhooksModule, JobsService, EngineRouter, JobQueue, JobRecordStore, JobEventStore, JobEventBus, TeamSlots, JOBS_REDIS, CREDENTIAL_SOURCE, BuildSecretsModule],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(JOBS_REDIS) private readonly redis: RedisClient,
  ) {}

  /** After the worker's drain: Nest shuts an importing module (JobWorkerModule) down before the modules it imports. */
  async onApplicationShutdown(): Promise<void> {
    await within(Promise.all([this.queue.close(), this.bus.close()]), CLOSE_GRACE_MS);
    // BullMQ's own connections to a Redis that is gone cannot be closed (they wait to connect first);
    // the process exits anyway, as Nest re-raises the signal once the app has closed.
    this.redis.disconnect();
  }
}
