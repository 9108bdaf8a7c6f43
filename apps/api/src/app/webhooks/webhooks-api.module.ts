import { Module } from '@nestjs/common';
import { TargetPolicy } from './target-policy';
import { WebhookDispatcher } from './webhook-queue';
import { WebhookStore } from './webhook-store';
import { WebhooksController } from './webhooks.controller';
import { WebhooksModule } from './webhooks.module';
import { WebhooksResolver } from './webhooks.resolver';
import { WebhooksService } from './webhooks.service';

/** Webhooks over REST and GraphQL. */
@Module({
  imports: [WebhooksModule],
  controllers: [WebhooksController],
  providers: [
    {
      provide: WebhooksService,
      inject: [WebhookStore, WebhookDispatcher, TargetPolicy],
      useFactory: (store: WebhookStore, dispatcher: WebhookDispatcher, policy: TargetPolicy) => new WebhooksService(store, dispatcher, policy),
    },
    WebhooksResolver,
  ],
})
export class WebhooksApiModule {}
