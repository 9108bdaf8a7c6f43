import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { isRedisUnreachable } from '@drydock/core';
import { CLOSE_GRACE_MS, within } from '../jobs/within';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { logJobsError } from '../jobs/jobs-log';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { TargetPolicy } from './target-policy';
import { WebhookDeliverer } from './webhook-deliverer';
import { WebhookDispatcher } from './webhook-queue';
import { WebhookStore } from './webhook-store';
import { WebhooksModule } from './webhooks.module';

const REQUEUE_EVERY_MS = 10_000;
const STRANDED_AFTER_MS = 30_000;

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
  private requeue: NodeJS.Timeout | undefined;

  constructor(
    @Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
  ) {}

  // Not awaited: the `all` role starts (and answers health) with Redis away, and the worker connects when it can.
  onModuleInit(): void {
    this.deliverer.start();
    // A logged delivery is queued within a moment; one still unqueued this long after was left by a process that died.
    this.requeue = setInterval(() => {
      this.dispatcher.requeueStranded(STRANDED_AFTER_MS).catch((error: unknown) => isRedisUnreachable(error) || logJobsError(error as Error));
    }, REQUEUE_EVERY_MS);
    this.requeue.unref();
  }

  /** An attempt in flight gets the grace to finish; one cut short is taken over from Redis by another worker. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.requeue);
    await within(this.deliverer.close().catch(() => undefined), CLOSE_GRACE_MS);
  }
}
