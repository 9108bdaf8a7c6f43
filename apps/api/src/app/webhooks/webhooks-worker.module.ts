import { Inject, Module, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { logJobsError } from '../jobs/jobs-log';
import { redisOptionsFromUrl } from '../jobs/jobs.tokens';
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
        new WebhookDeliverer(store, policy, config.webhooks, redisOptionsFromUrl(config.redisUrl), config.keyPrefix, metrics ?? null, logJobsError),
    },
  ],
})
export class WebhooksWorkerModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Optional() @Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.deliverer.whenReady();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.deliverer.close().catch(() => undefined);
  }
}
