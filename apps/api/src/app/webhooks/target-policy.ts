import type { RedisTarget } from '@drydock/jobs';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { AllowEntry } from '../config/webhooks';

/** Longest webhook URL taken. */
export const WEBHOOK_URL_MAX = 2048;

/** A host and port a webhook must never reach, whatever the allowlist says: the engines' and Redis' own. */
export interface Endpoint {
  host: string;
  port: number;
}

/** A URL that passed: where to connect (one of the checked addresses), and what it was checked as. */
export interface CheckedTarget {
  url: URL;
  hostname: string;
  port: number;
  /** Every address the host resolved to, each one checked. */
  addresses: { address: string; family: 4 | 6 }[];
}

export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

const defaultResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Addresses no webhook reaches unless the operator listed them: this host,
 * private networks, link-local (the cloud metadata service at
 * 169.254.169.254), carrier-grade NAT, documentation, multicast, reserved.
 */
const REFUSED_V4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];
const REFUSED_V6: [string, number][] = [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
];

function blockListOf(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [address, prefix, family] of entries) list.addSubnet(address, prefix, family);
  return list;
}

const REFUSED = blockListOf([...REFUSED_V4.map(([a, p]) => [a, p, 'ipv4'] as [string, number, 'ipv4']), ...REFUSED_V6.map(([a, p]) => [a, p, 'ipv6'] as [string, number, 'ipv6'])]);

/** `::ffff:10.0.0.1` is 10.0.0.1 on the wire: judge it as the IPv4 address it is. */
export function unmapped(address: string): { address: string; family: 4 | 6 } {
  const lower = address.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return { address: dotted[1] as string, family: 4 };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const high = parseInt(hex[1] as string, 16);
    const low = parseInt(hex[2] as string, 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 4 };
  }
  return { address: lower, family: isIP(lower) === 4 ? 4 : 6 };
}

function refused(message: string): DrydockError {
  return new DrydockError(ErrorCode.WEBHOOK_TARGET_REFUSED, message);
}

/**
 * Where a webhook may point. Checked when it is created and again at every
 * delivery, on every address the name resolves to then, and the delivery
 * connects to an address it checked: a name that later resolves elsewhere
 * (DNS rebinding) cannot reach a refused address.
 */
export class TargetPolicy {
  private readonly allowed: BlockList;
  private readonly allowedHosts: ReadonlySet<string>;

  constructor(
    allow: readonly AllowEntry[],
    private readonly endpoints: readonly Endpoint[] = [],
    private readonly resolve: Resolve = defaultResolve,
  ) {
    this.allowed = blockListOf(allow.flatMap((entry) => (entry.kind === 'cidr' ? [[entry.address, entry.prefix, entry.family] as [string, number, 'ipv4' | 'ipv6']] : [])));
    this.allowedHosts = new Set(allow.flatMap((entry) => (entry.kind === 'host' ? [entry.host] : [])));
  }

  /** The URL's own form, without resolving it: what validation can say synchronously. */
  static parse(raw: string): URL {
    if (typeof raw !== 'string' || raw.length > WEBHOOK_URL_MAX) throw refused(`a webhook URL is at most ${WEBHOOK_URL_MAX} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw refused('the webhook URL is not an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`a webhook URL is http or https, not ${url.protocol.slice(0, 20)}`);
    // Listed back to whoever may see the webhook, and sent in the clear on every retry: credentials do not belong there.
    if (url.username || url.password) throw refused('a webhook URL carries no user name or password; authenticate the signature instead');
    return url;
  }

  async check(raw: string): Promise<CheckedTarget> {
    const url = TargetPolicy.parse(raw);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    let resolved: { address: string; family: number }[];
    try {
      resolved = isIP(hostname) ? [{ address: hostname, family: isIP(hostname) }] : await this.resolve(hostname);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed';
      // At creation a name that does not resolve is refused; at delivery it may be DNS briefly away, worth a retry.
      throw new DrydockError(ErrorCode.WEBHOOK_TARGET_REFUSED, `the webhook host ${hostname} does not resolve (${code})`, { details: { unresolved: true } });
    }
    if (resolved.length === 0) throw refused(`the webhook host ${hostname} does not resolve`);
    const addresses = resolved.map((entry) => unmapped(entry.address));
    await this.refuseEndpoints(hostname, port, addresses);
    const listedName = this.allowedHosts.has(hostname);
    for (const { address, family } of addresses) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (!listedName && REFUSED.check(address, type) && !this.allowed.check(address, type)) {
        throw refused(
          `the webhook host ${hostname} is (or resolves to) ${address}, a private, loopback or link-local address; ` +
            'only addresses listed in DRYDOCK_WEBHOOK_ALLOW are reached there',
        );
      }
    }
    return { url, hostname, port, addresses };
  }

  private async refuseEndpoints(hostname: string, port: number, addresses: { address: string }[]): Promise<void> {
    for (const endpoint of this.endpoints) {
      if (endpoint.port !== port) continue;
      const names = isIP(endpoint.host) ? [unmapped(endpoint.host).address] : await this.resolve(endpoint.host).then((all) => all.map((a) => unmapped(a.address).address), () => []);
      if (endpoint.host.toLowerCase() === hostname || addresses.some((a) => names.includes(a.address))) {
        throw refused(`the webhook URL points at ${hostname}:${port}, where Drydock's own engine or Redis listens`);
      }
    }
  }
}

/** The engines (tcp://) and Redis, which a webhook must never reach. */
export function drydockEndpoints(engineHosts: readonly string[], redis: RedisTarget): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const raw of engineHosts) {
    try {
      const url = new URL(raw.replace(/^tcp:/, 'http:'));
      if (url.protocol === 'unix:' || !url.hostname) continue;
      endpoints.push({ host: url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port: Number(url.port || 2375) });
    } catch {
      // A unix socket path: nothing to reach over the network.
    }
  }
  // Redis: a node (and the Sentinels that name it) or every seed of a Cluster.
  const nodes = redis.kind === 'cluster' ? redis.nodes : [{ host: redis.options.host, port: redis.options.port }, ...(redis.options.sentinels ?? [])];
  for (const node of nodes) {
    if (node.host) endpoints.push({ host: node.host.toLowerCase(), port: Number(node.port ?? 6379) });
  }
  return endpoints;
}
