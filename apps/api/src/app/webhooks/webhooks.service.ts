import { DrydockError, ErrorCode } from '@drydock/core';
import type { Principal } from '../auth/principal';
import { newSecret } from './signing';
import type { TargetPolicy } from './target-policy';
import type { WebhookEventType } from './webhook-events';
import type { Webhook, WebhookDelivery, WebhookWithSecret } from './webhook.model';
import { DeliveryStatusEnum } from './webhook.model';
import type { WebhookDispatcher } from './webhook-queue';
import type { DeliveryRecord, StoredWebhook, WebhookStore } from './webhook-store';
import type { CreateWebhookInput } from './webhooks.dto';

/** Deliveries one listing returns, newest first. */
export const DELIVERIES_LISTED = 100;

/** What the REST controller and the resolver share: who may do what to which webhook. */
export class WebhooksService {
  constructor(
    private readonly store: WebhookStore,
    private readonly dispatcher: WebhookDispatcher,
    private readonly policy: TargetPolicy,
  ) {}

  async create(principal: Principal, input: CreateWebhookInput): Promise<WebhookWithSecret> {
    if (input.allTeams && principal.role !== 'admin') {
      throw new DrydockError(ErrorCode.FORBIDDEN, "only an admin may subscribe a webhook to every team's events");
    }
    await this.policy.check(input.url);
    const secret = newSecret();
    const hook = await this.store.create(
      principal,
      { url: input.url, events: input.events as WebhookEventType[], description: input.description ?? '', allTeams: input.allTeams === true },
      secret,
    );
    return { ...shown(hook), secret };
  }

  async list(principal: Principal): Promise<Webhook[]> {
    return (await this.store.list(principal)).map(shown);
  }

  remove(principal: Principal, id: string): Promise<void> {
    return this.store.remove(principal, id);
  }

  async deliveries(principal: Principal, id: string): Promise<WebhookDelivery[]> {
    const hook = await this.store.visible(principal, id);
    return (await this.store.deliveries(hook.id, DELIVERIES_LISTED)).map(deliveryShown);
  }

  async redeliver(principal: Principal, id: string, deliveryId: string): Promise<WebhookDelivery> {
    const hook = await this.store.visible(principal, id);
    return deliveryShown(await this.dispatcher.redeliver(hook.id, deliveryId));
  }
}

function shown(hook: StoredWebhook): Webhook {
  return { id: hook.id, url: hook.url, events: hook.events, description: hook.description, team: hook.team, createdAt: hook.createdAt, createdBy: hook.createdBy };
}

/** What a delivery shows: never its body, which the receiver has and a viewer does not need. */
function deliveryShown(delivery: DeliveryRecord): WebhookDelivery {
  return {
    id: delivery.id,
    webhookId: delivery.webhookId,
    event: delivery.event,
    status: delivery.status as DeliveryStatusEnum,
    attemptCount: delivery.attempts.length,
    responseCode: delivery.attempts.at(-1)?.responseCode ?? null,
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
    nextAttemptAt: delivery.nextAttemptAt,
    attempts: delivery.attempts,
  };
}
