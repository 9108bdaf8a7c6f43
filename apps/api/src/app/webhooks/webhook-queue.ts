import { DrydockError, ErrorCode } from '@drydock/core';
import { bullConnection, type BullConnection, closeBull, JobKeys, type RedisTarget } from '@drydock/jobs';
import { Queue } from 'bullmq';
import type { WebhookConfig } from '../config/webhooks';
import type { Principal } from '../auth/principal';
import { deletedEvent, payloadOf, taggedEvent, type WebhookEvent } from './webhook-events';
import type { DeliveryRecord, WebhookStore } from './webhook-store';

/**
 * Deliveries are BullMQ jobs of a queue of their own, not Drydock Jobs: a
 * Drydock Job is a team's engine work, with a record, events, team slots and
 * an engine, listed and cancelled by its team. A delivery has none of that;
 * it only needs BullMQ's durability (it waits out its backoff in Redis, so a
 * worker that dies between attempts loses nothing) and its retries.
 */
export const WEBHOOK_QUEUE = 'webhooks';

export interface DeliveryJob {
  deliveryId: string;
  webhookId: string;
}

/** Queue options both sides agree on: the deployment's key prefix. */
export function webhookQueuePrefix(keyPrefix: string): string {
  return new JobKeys(keyPrefix).bullPrefix;
}

/** Stranded deliveries one requeue pass queues at most; the rest wait for the next. */
const REQUEUE_BATCH = 100;

/**
 * A delivery's queue job id: its own, and for a redelivery one per round, since the first round's
 * job may still be kept by BullMQ, and an add under a kept id is dropped.
 */
function jobIdOf(delivery: Pick<DeliveryRecord, 'id' | 'redeliveries'>): string {
  return delivery.redeliveries === 0 ? delivery.id : `${delivery.id}-r${delivery.redeliveries}`;
}

/** Fans events out to the webhooks that want them, each as a logged, queued delivery. In every role. */
export class WebhookDispatcher {
  private current: Queue<DeliveryJob> | undefined;
  private connection: BullConnection | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly config: WebhookConfig,
    private readonly redis: RedisTarget,
    private readonly keyPrefix: string,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Made on the first delivery: a process (or a spec's module) that never sends one opens no connection. */
  private get queue(): Queue<DeliveryJob> {
    if (this.current) return this.current;
    const retention = { age: this.config.deliveryRetentionSeconds, count: 1000 };
    this.connection = bullConnection(this.redis, { enableOfflineQueue: false });
    this.current = new Queue<DeliveryJob>(WEBHOOK_QUEUE, {
      connection: this.connection.connection,
      prefix: webhookQueuePrefix(this.keyPrefix),
      streams: { events: { maxLen: 100 } },
      defaultJobOptions: {
        attempts: this.config.attempts,
        backoff: { type: 'exponential', delay: this.config.backoffMs },
        removeOnComplete: retention,
        removeOnFail: retention,
      },
    });
    this.current.on('error', this.onError);
    return this.current;
  }

  /**
   * Logs and queues one delivery per webhook subscribed to each event; resolves once all are in
   * Redis. Two writes, log then queue: a process that dies between them leaves the delivery marked
   * unqueued, and requeueStranded queues it. The queue job's id is the delivery's, so a second add
   * of one (an event told again, a requeue racing the first add) is dropped by BullMQ.
   */
  async publish(events: readonly WebhookEvent[]): Promise<void> {
    const jobs: { name: string; data: DeliveryJob; opts: { jobId: string } }[] = [];
    for (const event of events) {
      const hooks = (await this.store.subscribedTo(event.team)).filter((hook) => hook.events.includes(event.type));
      if (hooks.length === 0) continue;
      const body = payloadOf(event, new Date());
      for (const hook of hooks) {
        const delivery = await this.store.addDelivery(hook.id, event.type, body, event.key);
        // Told before: queued then, or marked for requeueStranded.
        if (delivery) jobs.push({ name: event.type, data: { deliveryId: delivery.id, webhookId: hook.id }, opts: { jobId: jobIdOf(delivery) } });
      }
    }
    if (jobs.length === 0) return;
    await this.queue.addBulk(jobs);
    await this.store.markQueued(jobs.map((job) => job.data.deliveryId));
  }

  /** Queues the deliveries logged `olderThanMs` ago or more whose process died before queueing them. In the worker role. */
  async requeueStranded(olderThanMs: number): Promise<void> {
    for (const id of await this.store.claimUnqueued(olderThanMs, REQUEUE_BATCH)) {
      const delivery = await this.store.delivery(id);
      if (delivery?.status === 'PENDING') {
        await this.queue.add(delivery.event, { deliveryId: id, webhookId: delivery.webhookId }, { jobId: jobIdOf(delivery) });
      }
      await this.store.markQueued([id]);
    }
  }

  /** For callers whose own work must not fail with the webhooks (a job's end, a tag): what cannot be queued is logged. */
  async tell(events: readonly WebhookEvent[]): Promise<void> {
    if (events.length) await this.publish(events).catch((error: unknown) => this.onError(error as Error));
  }

  imageTagged(principal: Principal | undefined, imageId: string, reference: string): Promise<void> {
    return this.tell([taggedEvent(principal?.team ?? null, imageId, reference)]);
  }

  /** Tells of the removal and answers with its result, to sit in the remove's own chain. */
  async imageRemoved<T extends { untagged: string[]; deleted: string[] }>(principal: Principal | undefined, reference: string, result: T): Promise<T> {
    await this.tell([deletedEvent(principal?.team ?? null, reference, result)]);
    return result;
  }

  /** Sends a finished delivery again, the same body and id, with a fresh round of retries. */
  async redeliver(webhookId: string, deliveryId: string): Promise<DeliveryRecord> {
    const delivery = await this.store.delivery(deliveryId);
    if (!delivery || delivery.webhookId !== webhookId) {
      throw new DrydockError(ErrorCode.DELIVERY_NOT_FOUND, `webhook ${webhookId} has no delivery ${deliveryId.slice(0, 64)}`);
    }
    if (delivery.status === 'PENDING') {
      throw new DrydockError(ErrorCode.CONFLICT, `delivery ${deliveryId} is still being attempted; redeliver it once it has succeeded or failed`);
    }
    const round = delivery.redeliveries + 1;
    await this.store.markUnqueued(deliveryId);
    const updated = await this.store.updateDelivery(deliveryId, (current) => ({ ...current, status: 'PENDING', nextAttemptAt: null, redeliveries: round }));
    if (!updated) throw new DrydockError(ErrorCode.DELIVERY_NOT_FOUND, `delivery ${deliveryId} has expired`);
    await this.queue.add(delivery.event, { deliveryId, webhookId }, { jobId: jobIdOf(updated) });
    await this.store.markQueued([deliveryId]);
    return updated;
  }

  async close(): Promise<void> {
    if (this.current) await closeBull(this.current);
    this.connection?.release();
  }
}
