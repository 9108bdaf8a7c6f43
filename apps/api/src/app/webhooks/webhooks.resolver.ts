import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { Webhook, WebhookDelivery, WebhookWithSecret } from './webhook.model';
import { CreateWebhookInput } from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

@Resolver(() => Webhook)
@RequireRole('viewer')
export class WebhooksResolver {
  constructor(private readonly service: WebhooksService) {}

  @Query(() => [Webhook], { description: "the token's team's webhooks (an admin's: every webhook); never a secret" })
  webhooks(@CurrentPrincipal() principal: Principal): Promise<Webhook[]> {
    return this.service.list(principal);
  }

  @Query(() => [WebhookDelivery], { description: "a webhook's latest deliveries, newest first, with every attempt" })
  webhookDeliveries(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<WebhookDelivery[]> {
    return this.service.deliveries(principal, id);
  }

  @Mutation(() => WebhookWithSecret, { description: 'the secret is shown in this answer only; WEBHOOK_TARGET_REFUSED for a URL off the allowlist' })
  @RequireRole('builder')
  createWebhook(@Args('input', { type: () => CreateWebhookInput }) input: CreateWebhookInput, @CurrentPrincipal() principal: Principal): Promise<WebhookWithSecret> {
    return this.service.create(principal, input);
  }

  @Mutation(() => Boolean, { description: 'true once removed; WEBHOOK_NOT_FOUND for one the token\'s team does not have' })
  @RequireRole('builder')
  async removeWebhook(@Args('id', { type: () => ID }) id: string, @CurrentPrincipal() principal: Principal): Promise<boolean> {
    await this.service.remove(principal, id);
    return true;
  }

  @Mutation(() => WebhookDelivery, { description: 'sends a finished delivery again; CONFLICT while it is still being attempted' })
  @RequireRole('builder')
  redeliverWebhookDelivery(
    @Args('id', { type: () => ID }) id: string,
    @Args('deliveryId', { type: () => ID }) deliveryId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<WebhookDelivery> {
    return this.service.redeliver(principal, id, deliveryId);
  }
}
