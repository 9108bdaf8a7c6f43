import { Global, Inject, Logger, Module, OnApplicationShutdown, Optional } from '@nestjs/common';
import { DockerEngine } from '@drydock/docker';
import {
  BuildJob,
  JobEventBus,
  JobEventStore,
  JobQueue,
  JobRecordStore,
  JobWorker,
  PullJob,
  PushJob,
  RunJob,
  type CredentialSource,
} from '@drydock/jobs';
import Redis from 'ioredis';
import { join } from 'node:path';
import { AuditLog } from '../audit/audit.service';
import { jobEndingEntry } from '../audit/job-ending';
import { ContextStore } from '../builds/context-store';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { RegistriesModule } from '../registries/registries.module';
import { watchRedis } from '../redis/redis.module';
import { RegistryCredentials } from '../registries/registry-credentials.service';
import { JobsController } from './jobs.controller';
import { JobsResolver } from './jobs.resolver';
import { JobsService } from './jobs.service';
import { CREDENTIAL_SOURCE, JOBS_REDIS, redisOptionsFromUrl } from './jobs.tokens';

/** SIGTERM: running jobs get this long to finish before they are handed back to the queue. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/** Past the worker's own deadline, how long the queue and bus get to close before their sockets are cut. */
const CLOSE_GRACE_MS = 3_000;

const logger = new Logger('Jobs');
const lastLogged = new Map<string, number>();
/**
 * BullMQ's and the bus's connections report every failed reconnect while Redis
 * is away; one line per distinct message every 30 s says as much.
 */
const onError = (error: Error) => {
  const now = Date.now();
  if (now - (lastLogged.get(error.message) ?? 0) < 30_000) return;
  lastLogged.set(error.message, now);
  logger.warn({ err: error }, error.message);
};

/** Resolves when `work` does or after `ms`, whichever is first: shutdown must not wait on a Redis that is gone. */
function within(work: Promise<unknown> | undefined, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

/**
 * Queues, stores and the event bus for every role; the worker only where the
 * role runs jobs (`all` or `worker`). Redis is the only state the roles share.
 */
@Global()
@Module({
  imports: [RegistriesModule],
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
      provide: JobEventBus,
      inject: [JOBS_REDIS, JobEventStore],
      useFactory: (redis: Redis, events: JobEventStore) => new JobEventBus(redis, events, { onError }),
    },
    {
      provide: JobQueue,
      inject: [APP_CONFIG, JobRecordStore, JobEventStore, AuditLog],
      useFactory: (config: AppConfig, records: JobRecordStore, events: JobEventStore, audit: AuditLog) =>
        new JobQueue({ connection: redisOptionsFromUrl(config.redisUrl), records, events, onError, onJobEnded: (job) => audit.record(jobEndingEntry(job)) }),
    },
    {
      provide: ContextStore,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ContextStore(join(config.dataDir, 'contexts'), config.buildContextMaxBytes, config.teamContextMaxBytes),
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
      provide: JobWorker,
      inject: [APP_CONFIG, JobRecordStore, JobEventStore, JobEventBus, DockerEngine, CREDENTIAL_SOURCE, ContextStore, AuditLog],
      useFactory: (
        config: AppConfig,
        records: JobRecordStore,
        events: JobEventStore,
        bus: JobEventBus,
        engine: DockerEngine,
        credentials: CredentialSource,
        contexts: ContextStore,
        audit: AuditLog,
      ) =>
        config.role === 'api'
          ? null
          : new JobWorker({
              connection: redisOptionsFromUrl(config.redisUrl),
              records,
              events,
              // Every job's end goes to the audit trail. Nest shuts modules down in reverse order of start,
              // so the requests' Redis connection outlives the worker's drain at SIGTERM.
              onJobEnded: (job) => audit.record(jobEndingEntry(job)),
              bus,
              handlers: [
                new PullJob(engine, credentials),
                new PushJob(engine, credentials),
                new BuildJob(engine, credentials, contexts, {
                  limits: config.build,
                  timeoutMs: config.build.timeoutSeconds * 1000,
                }),
                new RunJob(engine),
              ],
              logBudget: config.jobLogBudget,
              onError,
            }),
    },
    JobsService,
    JobsResolver,
  ],
  controllers: [JobsController],
  exports: [JobsService, JobQueue, JobRecordStore, JobEventBus, ContextStore, CREDENTIAL_SOURCE],
})
export class JobsModule implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(JobWorker) private readonly worker: JobWorker | null,
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobEventBus) private readonly bus: JobEventBus,
    @Inject(JOBS_REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await within(this.worker?.close(SHUTDOWN_DEADLINE_MS), SHUTDOWN_DEADLINE_MS + CLOSE_GRACE_MS);
    await within(Promise.all([this.queue.close(), this.bus.close()]), CLOSE_GRACE_MS);
    // BullMQ's own connections to a Redis that is gone cannot be closed (they wait to connect first);
    // the process exits anyway, as Nest re-raises the signal once the app has closed.
    this.redis.disconnect();
  }
}
