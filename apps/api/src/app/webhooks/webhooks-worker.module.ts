import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CLOSE_GRACE_MS, within } from '../jobs/within';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { logJobsError } from '../jobs/jobs-log';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { TargetPolicy } from './target-policy';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookStore } from './webhook-store';
import { WebhooksModule } from './webhooks.module';

/** The deliveries' sender, in the roles that run work (`worker`, `all`). */
@Module({
  imports: [WebhooksModule],
  providers: [
    {
      provide: WebhookDeliverer,
      inject: [WebhookStore, TargetPolicy, APP_CONFIG, { token: DrydockMetrics, optional: true }],
      useFactory: (store: WebhookStore, policy: TargetPolicy, config: AppConfig, metrics?: DrydockMetrics) =>
        new WebhookDeliverer(store, policy, config.webhooks, config.redis, config.keyPrefix, metrics ?? null, logJobsError),
    },
  ],
})
export class WebhooksWorkerModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer) {}

  // Not awaited: the `all` role starts (and answers health) with Redis away, and the worker connects when it can.
  onModuleInit(): void {
    this.deliverer.start();
  }

  /** An attempt in flight gets the grace to finish; one cut short is taken over from Redis by another worker. */
  async onApplicationShutdown(): Promise<void> {
    await within(this.deliverer.close().catch(() => undefined), CLOSE_GRACE_MS);
  }
}
