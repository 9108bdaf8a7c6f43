import { bullConnection, type BullConnection, closeBull, type RedisTarget } from '@drydock/jobs';
import { isDrydockError } from '@drydock/core';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { WebhookConfig } from '../config/webhooks';
import type { DrydockMetrics } from '../metrics/drydock-metrics';
import { send, type AttemptResult } from './sender';
import { signedHeaders } from './signing';
import type { TargetPolicy } from './target-policy';
import { WEBHOOK_QUEUE, webhookQueuePrefix, type DeliveryJob } from './webhook-queue';
import type { DeliveryStatus, WebhookStore } from './webhook-store';

/** Deliveries one process sends at once: each is a wait on a receiver, not work. */
const CONCURRENCY = 16;

/**
 * Sends deliveries, in the worker role. Each attempt is signed afresh, sent
 * to an address checked at that moment, logged, and counted; a retryable
 * failure is thrown back to BullMQ, which holds the delivery in Redis for
 * its backoff and hands it to whichever worker is alive then.
 */
export class WebhookDeliverer {
  private worker: Worker<DeliveryJob> | undefined;
  private connection: BullConnection | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly policy: TargetPolicy,
    private readonly config: WebhookConfig,
    private readonly redis: RedisTarget,
    private readonly keyPrefix: string,
    private readonly metrics: DrydockMetrics | null,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Starts taking deliveries (at the module's init, not its construction: a module compiled and never started holds no connection). */
  start(): void {
    if (this.worker) return;
    this.connection = bullConnection(this.redis, { maxRetriesPerRequest: null });
    this.worker = new Worker<DeliveryJob>(WEBHOOK_QUEUE, (job) => this.process(job), {
      connection: this.connection.connection,
      prefix: webhookQueuePrefix(this.keyPrefix),
      concurrency: CONCURRENCY,
      // An attempt is bounded by the timeout: a lock that outlives it by a margin is never lost to a slow receiver,
      // and a dead worker's attempt is taken over soon after.
      lockDuration: this.config.timeoutMs + 10_000,
      stalledInterval: 10_000,
      maxStalledCount: 2,
    });
    this.worker.on('error', this.onError);
  }

  async close(): Promise<void> {
    if (this.worker) await closeBull(this.worker);
    this.connection?.release();
  }

  private async process(job: Job<DeliveryJob>): Promise<void> {
    const { deliveryId, webhookId } = job.data;
    const delivery = await this.store.delivery(deliveryId);
    // Expired past its retention, or its webhook removed with its log: nothing left to deliver.
    if (!delivery) return;
    const hook = await this.store.get(webhookId);
    const at = new Date();
    let result: AttemptResult;
    if (!hook) {
      result = { outcome: 'failure', responseCode: null, error: 'the webhook was removed', durationMs: 0 };
    } else {
      result = await this.attempt(hook.url, this.store.secretOf(hook), deliveryId, at, delivery.body);
    }
    const attempts = job.opts.attempts ?? 1;
    const last = job.attemptsMade + 1 >= attempts;
    const status: DeliveryStatus = result.outcome === 'success' ? 'SUCCEEDED' : result.outcome === 'failure' || last ? 'FAILED' : 'PENDING';
    const nextAttemptAt = status === 'PENDING' ? new Date(Date.now() + this.config.backoffMs * 2 ** job.attemptsMade).toISOString() : null;
    await this.store.updateDelivery(deliveryId, (current) => ({
      ...current,
      status,
      nextAttemptAt,
      attempts: [...current.attempts, { at: at.toISOString(), ...result }],
    }));
    this.metrics?.webhookDeliveries.inc({ outcome: result.outcome });
    if (result.outcome === 'failure') throw new UnrecoverableError(result.error ?? `answered ${result.responseCode}`);
    if (result.outcome === 'retry') throw new Error(result.error ?? `answered ${result.responseCode}`);
  }

  private async attempt(url: string, secret: string, deliveryId: string, at: Date, body: string): Promise<AttemptResult> {
    try {
      const target = await this.policy.check(url);
      return await send(target, signedHeaders(secret, deliveryId, at, body), body, this.config.timeoutMs);
    } catch (error) {
      // The address is refused now (the name moved to a private address): an answer, not a hiccup.
      const message = error instanceof Error ? error.message : String(error);
      const answer = isDrydockError(error) && !error.details?.['unresolved'];
      return { outcome: answer ? 'failure' : 'retry', responseCode: null, error: message, durationMs: 0 };
    }
  }
}
