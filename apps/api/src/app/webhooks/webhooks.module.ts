import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { RedisClient } from '@drydock/jobs';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { logJobsError } from '../jobs/jobs-log';
import { CLOSE_GRACE_MS, within } from '../jobs/within';
import { REDIS } from '../redis/redis.module';
import { loadKeyRing, type KeyRing } from '../registries/secret-box';
import { drydockEndpoints, TargetPolicy } from './target-policy';
import { WebhookDispatcher } from './webhook-queue';
import { WebhookStore } from './webhook-store';

/**
 * The webhooks' store, target policy and dispatcher, for every role: the job
 * runner's hooks publish events from whichever process observed them.
 */
@Module({
  providers: [
    {
      provide: WebhookStore,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) => {
        let ring: KeyRing | undefined;
        // Sealed with the registry vault's keys (DRYDOCK_SECRET_KEY, and _PREVIOUS during a rotation); loaded on first use.
        return new WebhookStore(redis, config, () => (ring ??= loadKeyRing(config.secretKey, config.secretKeyPrevious, config.dataDir)));
      },
    },
    {
      provide: TargetPolicy,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new TargetPolicy(config.webhooks.allow, drydockEndpoints(config.engines.map((engine) => engine.host), config.redis)),
    },
    {
      provide: WebhookDispatcher,
      inject: [WebhookStore, APP_CONFIG],
      useFactory: (store: WebhookStore, config: AppConfig) =>
        new WebhookDispatcher(store, config.webhooks, config.redis, config.keyPrefix, logJobsError),
    },
  ],
  exports: [WebhookStore, TargetPolicy, WebhookDispatcher],
})
export class WebhooksModule implements OnApplicationShutdown {
  constructor(@Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher) {}

  async onApplicationShutdown(): Promise<void> {
    await within(this.dispatcher.close().catch(() => undefined), CLOSE_GRACE_MS);
  }
}
