import { createHash, randomUUID } from 'node:crypto';
import { DrydockError, ErrorCode } from '@drydock/core';
import { claimStale, redisKeyBase, type RedisClient } from '@drydock/jobs';
import type { Principal } from '../auth/principal';
import type { AppConfig } from '../config/config';
import type { KeyRing } from '../registries/secret-box';
import type { AttemptOutcome } from './sender';
import type { WebhookEventType } from './webhook-events';

/** A webhook as stored: its secret sealed, bound to its id. */
export interface StoredWebhook {
  id: string;
  /** null: an admin's webhook for every team's events. */
  team: string | null;
  url: string;
  events: WebhookEventType[];
  description: string;
  createdAt: string;
  createdBy: string;
  sealedSecret: string;
}

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface DeliveryAttempt {
  at: string;
  outcome: AttemptOutcome;
  responseCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  event: WebhookEventType;
  status: DeliveryStatus;
  createdAt: string;
  updatedAt: string;
  /** When the next try is due, while PENDING after a failed one. */
  nextAttemptAt: string | null;
  /** Manual redeliveries so far: each is a queue job of its own. */
  redeliveries: number;
  attempts: DeliveryAttempt[];
  /** The exact bytes signed and sent, the same on every attempt. */
  body: string;
}

/** Attempts one delivery keeps (its retries and redeliveries); older ones drop off. */
export const ATTEMPTS_KEPT = 100;

/** KEYS: hook, team index, all; ARGV: id, json, max. -1 when the team is at its quota. */
const CREATE_WITHIN_QUOTA = `
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1`;

/** KEYS: delivery, webhook's log, unqueued; ARGV: id, json, retention ms, now ms, max kept. 0 if it was logged already. */
const ADD_DELIVERY = `
if not redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[4]) - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[5]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1`;

/** A name-based UUID (RFC 9562 version 8, from SHA-256): the same name, the same id. */
function nameUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const ALL_TEAMS = '*';

function associatedData(id: string): string {
  return `drydock/webhook-secret/v1\n${id}`;
}

/**
 * Webhooks and their delivery log in Redis, under the deployment's prefix.
 * Deliveries expire after the retention period and each webhook keeps at
 * most `maxDeliveries` of them, so a chatty team's log stays bounded.
 */
export class WebhookStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly config: Pick<AppConfig, 'keyPrefix' | 'webhooks'>,
    private readonly ring: () => KeyRing,
  ) {
    // Under the deployment's hash tag, as every Drydock key: one Cluster slot.
    this.prefix = `${redisKeyBase(config.keyPrefix)}:webhooks`;
  }

  hookKey(id: string): string {
    return `${this.prefix}:hook:${id}`;
  }

  teamKey(team: string | null): string {
    return `${this.prefix}:team:${team ?? ALL_TEAMS}`;
  }

  get allKey(): string {
    return `${this.prefix}:all`;
  }

  deliveryKey(id: string): string {
    return `${this.prefix}:delivery:${id}`;
  }

  deliveriesKey(webhookId: string): string {
    return `${this.prefix}:deliveries:${webhookId}`;
  }

  async create(
    principal: Principal,
    input: { url: string; events: WebhookEventType[]; description: string; allTeams: boolean },
    secret: string,
  ): Promise<StoredWebhook> {
    const id = randomUUID();
    const team = input.allTeams ? null : principal.team;
    const hook: StoredWebhook = {
      id,
      team,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description,
      createdAt: new Date().toISOString(),
      createdBy: principal.name,
      sealedSecret: this.ring().seal(secret, associatedData(id)),
    };
    const max = this.config.webhooks.maxPerTeam;
    const stored = Number(await this.redis.eval(CREATE_WITHIN_QUOTA, 3, this.hookKey(id), this.teamKey(team), this.allKey, id, JSON.stringify(hook), max));
    if (stored < 0) {
      throw new DrydockError(
        ErrorCode.QUOTA_EXCEEDED,
        `${team === null ? 'all-teams webhooks' : `team ${team}`} already has ${max} webhooks (DRYDOCK_TEAM_MAX_WEBHOOKS); remove one first`,
      );
    }
    return hook;
  }

  async get(id: string): Promise<StoredWebhook | null> {
    const json = await this.redis.get(this.hookKey(id));
    return json === null ? null : (JSON.parse(json) as StoredWebhook);
  }

  /** The webhook if the caller may see it (its team's, or any for an admin); WEBHOOK_NOT_FOUND otherwise, alike. */
  async visible(principal: Principal, id: string): Promise<StoredWebhook> {
    const hook = /^[0-9a-f-]{36}$/.test(id) ? await this.get(id) : null;
    if (!hook || (principal.role !== 'admin' && hook.team !== principal.team)) {
      throw new DrydockError(ErrorCode.WEBHOOK_NOT_FOUND, `no webhook ${id.slice(0, 64)}`);
    }
    return hook;
  }

  /** The caller's team's webhooks; for an admin, every webhook. Oldest first. */
  async list(principal: Principal): Promise<StoredWebhook[]> {
    const ids = await this.redis.smembers(principal.role === 'admin' ? this.allKey : this.teamKey(principal.team));
    return (await this.load(ids)).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Webhooks that get `team`'s events: the team's own, and the all-teams ones. */
  async subscribedTo(team: string | null): Promise<StoredWebhook[]> {
    const ids = team === null ? await this.redis.smembers(this.teamKey(null)) : await this.redis.sunion(this.teamKey(team), this.teamKey(null));
    return this.load(ids);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const hook = await this.visible(principal, id);
    await this.redis
      .multi()
      .del(this.hookKey(id))
      .srem(this.teamKey(hook.team), id)
      .srem(this.allKey, id)
      // The log goes with the webhook; deliveries still queued find no webhook and stop.
      .del(this.deliveriesKey(id))
      .exec();
  }

  secretOf(hook: StoredWebhook): string {
    return this.ring().open(hook.sealedSecret, associatedData(hook.id)).plaintext;
  }

  /**
   * Logs a new delivery (PENDING) under its webhook, dropping what is past the count or the
   * retention, and marks it not yet queued (see markQueued). An event with a key gets the same
   * delivery id each time: a second log of it changes nothing and answers null.
   */
  async addDelivery(webhookId: string, event: WebhookEventType, body: string, key?: string): Promise<DeliveryRecord | null> {
    const now = new Date();
    const delivery: DeliveryRecord = {
      id: key === undefined ? randomUUID() : nameUuid(`${webhookId}\n${key}`),
      webhookId,
      event,
      status: 'PENDING',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      nextAttemptAt: null,
      redeliveries: 0,
      attempts: [],
      body,
    };
    const keys = [this.deliveryKey(delivery.id), this.deliveriesKey(webhookId), this.unqueuedKey];
    const retentionMs = this.config.webhooks.deliveryRetentionSeconds * 1000;
    const existing = await this.redis.eval(ADD_DELIVERY, 3, ...keys, delivery.id, JSON.stringify(delivery), retentionMs, now.getTime(), this.config.webhooks.maxDeliveries);
    return existing === 1 ? delivery : null;
  }

  /** Deliveries logged but maybe not queued (their process may have died in between), scored by when. */
  get unqueuedKey(): string {
    return `${this.prefix}:unqueued`;
  }

  /** Marks a delivery (again) as waiting for its queue job: what a crash before the add leaves is found by requeue. */
  async markUnqueued(id: string): Promise<void> {
    await this.redis.zadd(this.unqueuedKey, Date.now(), id);
  }

  async markQueued(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.redis.zrem(this.unqueuedKey, ...ids);
  }

  /** Up to `max` deliveries marked unqueued `olderThanMs` ago or more, each claimed for as long again. */
  async claimUnqueued(olderThanMs: number, max: number): Promise<string[]> {
    return claimStale(this.redis, this.unqueuedKey, olderThanMs, max);
  }

  async delivery(id: string): Promise<DeliveryRecord | null> {
    const json = /^[0-9a-f-]{36}$/.test(id) ? await this.redis.get(this.deliveryKey(id)) : null;
    return json === null ? null : (JSON.parse(json) as DeliveryRecord);
  }

  /** A webhook's deliveries, newest first, at most `limit`. */
  async deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]> {
    const ids = await this.redis.zrevrange(this.deliveriesKey(webhookId), 0, limit - 1);
    if (ids.length === 0) return [];
    const found = await this.redis.mget(ids.map((id) => this.deliveryKey(id)));
    return found.flatMap((json) => (json === null ? [] : [JSON.parse(json) as DeliveryRecord]));
  }

  /**
   * Rewrites a delivery; only one attempt of a delivery runs at a time (one
   * queue job, or a redelivery once it is no longer PENDING), so a plain
   * read-modify-write does not race. Keeps the delivery's remaining lifetime.
   */
  async updateDelivery(id: string, change: (delivery: DeliveryRecord) => DeliveryRecord): Promise<DeliveryRecord | null> {
    const current = await this.delivery(id);
    if (!current) return null;
    const next = change(current);
    next.attempts = next.attempts.slice(-ATTEMPTS_KEPT);
    next.updatedAt = new Date().toISOString();
    await this.redis.set(this.deliveryKey(id), JSON.stringify(next), 'KEEPTTL');
    return next;
  }

  private async load(ids: string[]): Promise<StoredWebhook[]> {
    if (ids.length === 0) return [];
    const found = await this.redis.mget(ids.map((id) => this.hookKey(id)));
    return found.flatMap((json) => (json === null ? [] : [JSON.parse(json) as StoredWebhook]));
  }
}
