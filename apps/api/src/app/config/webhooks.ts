import { DrydockError, ErrorCode } from '@drydock/core';
import { isIP } from 'node:net';

/** One DRYDOCK_WEBHOOK_ALLOW entry: a CIDR (or a bare address) or a host name. */
export type AllowEntry = { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' } | { kind: 'host'; host: string };

export interface WebhookConfig {
  /** Addresses and names a webhook may reach although they are private, loopback or link-local. */
  allow: readonly AllowEntry[];
  /** Tries per delivery, the first included (DRYDOCK_WEBHOOK_ATTEMPTS). */
  attempts: number;
  /** The first retry's delay; it doubles each time (DRYDOCK_WEBHOOK_BACKOFF_MS). */
  backoffMs: number;
  /** How long one attempt may take, connection to the last byte read. */
  timeoutMs: number;
  /** Webhooks one team may have; past it 409 QUOTA_EXCEEDED. */
  maxPerTeam: number;
  /** Deliveries kept per webhook, and for how long. */
  maxDeliveries: number;
  deliveryRetentionSeconds: number;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `10.0.0.0/8,127.0.0.1,hooks.internal`: CIDRs, bare addresses (a /32 or /128) and host names. */
export function allowListOf(raw: string, name = 'DRYDOCK_WEBHOOK_ALLOW'): AllowEntry[] {
  return raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
    .map((entry): AllowEntry => {
      const [address = '', bits, ...rest] = entry.split('/');
      const version = isIP(address);
      if (version !== 0 && rest.length === 0) {
        const max = version === 4 ? 32 : 128;
        const prefix = bits === undefined ? max : Number(bits);
        if (!/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) {
          throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: "${entry}" has a prefix length outside 0-${max}`);
        }
        return { kind: 'cidr', address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
      }
      if (bits === undefined && HOST_NAME.test(entry)) return { kind: 'host', host: entry };
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: "${entry}" is neither a CIDR, an address nor a host name`);
    });
}

type Env = Record<string, string | undefined>;
type IntegerOf = (env: Env, name: string, fallback: number, min: number, max: number) => number;

/**
 * The defaults retry for about a day: 13 tries, 20 s doubling, 22.7 h from
 * the first failure to the last try.
 */
export function webhookConfigOf(env: Env, integer: IntegerOf): WebhookConfig {
  return {
    allow: allowListOf(env['DRYDOCK_WEBHOOK_ALLOW'] ?? ''),
    attempts: integer(env, 'DRYDOCK_WEBHOOK_ATTEMPTS', 13, 1, 50),
    backoffMs: integer(env, 'DRYDOCK_WEBHOOK_BACKOFF_MS', 20_000, 10, 24 * 3600 * 1000),
    timeoutMs: integer(env, 'DRYDOCK_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    maxPerTeam: integer(env, 'DRYDOCK_TEAM_MAX_WEBHOOKS', 25, 1, 10_000),
    maxDeliveries: integer(env, 'DRYDOCK_WEBHOOK_MAX_DELIVERIES', 1000, 10, 1_000_000),
    deliveryRetentionSeconds: integer(env, 'DRYDOCK_WEBHOOK_DELIVERY_RETENTION_SECONDS', 3 * 24 * 3600, 60, 90 * 24 * 3600),
  };
}
