import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A command connection: one node (plain, or its master found through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where Redis is, as REDIS_URL says it. A Sentinel deployment is a `node`
 * target: ioredis finds the master through the sentinels in its options.
 */
export type RedisTarget =
  | { kind: 'node'; options: RedisOptions }
  | { kind: 'cluster'; nodes: RedisNode[]; options: ClusterOptions };

const SCHEME = /^(rediss?)(\+cluster|\+sentinel)?:\/\/(.*)$/i;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * REDIS_URL's forms (ioredis and BullMQ document none for Cluster or Sentinel):
 *   redis://[user:pass@]host[:port][/db]          one node; rediss:// for TLS
 *   redis+cluster://[user:pass@]host:port,host:port   Cluster seed nodes; rediss+cluster:// for TLS
 *   redis+sentinel://[user:pass@]host:port,host:port/master-name[/db]   rediss+sentinel:// for TLS
 * Credentials are the data nodes'; sentinels are asked without any.
 * Throws an Error saying what is wrong (never echoing the password).
 */
export function parseRedisUrl(url: string): RedisTarget {
  const match = SCHEME.exec(url);
  if (!match) throw new Error('expected redis://, rediss://, redis+cluster:// or redis+sentinel://');
  const [, scheme, mode, rest] = match as unknown as [string, string, string | undefined, string];
  const tls = scheme.toLowerCase() === 'rediss' ? { tls: {} } : {};
  if (/[?#]/.test(rest)) throw new Error('query strings and fragments are not supported');
  const at = rest.lastIndexOf('@', rest.indexOf('/') < 0 ? rest.length : rest.indexOf('/'));
  const auth = credentials(at < 0 ? '' : rest.slice(0, at));
  const afterAuth = rest.slice(at + 1);
  const slash = afterAuth.indexOf('/');
  const hosts = slash < 0 ? afterAuth : afterAuth.slice(0, slash);
  const path = slash < 0 ? [] : afterAuth.slice(slash + 1).split('/').filter(Boolean);
  switch (mode?.toLowerCase()) {
    case '+cluster': {
      if (path.length) throw new Error('a Cluster has no database number');
      return { kind: 'cluster', nodes: nodesOf(hosts, 6379), options: { redisOptions: { ...auth, ...tls } } };
    }
    case '+sentinel': {
      const [name, db, ...extra] = path;
      if (!name || !MASTER_NAME.test(name) || extra.length) throw new Error('expected /<master-name>[/<db>] after the sentinels');
      const sentinelTls = scheme.toLowerCase() === 'rediss' ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {};
      return { kind: 'node', options: { sentinels: nodesOf(hosts, 26379), name, ...database(db), ...auth, ...tls, ...sentinelTls } };
    }
    default: {
      const [node, ...more] = nodesOf(hosts, 6379);
      if (more.length || path.length > 1) throw new Error('one host and at most one /<db>; for several nodes use redis+cluster:// or redis+sentinel://');
      return { kind: 'node', options: { ...node, ...database(path[0]), ...auth, ...tls } as RedisOptions };
    }
  }
}

function credentials(userinfo: string): Pick<RedisOptions, 'username' | 'password'> {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1));
  return { ...(user ? { username: user } : {}), ...(password ? { password } : {}) };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error('the credentials are not valid percent-encoding');
  }
}

function nodesOf(list: string, defaultPort: number): RedisNode[] {
  const nodes = list.split(',').map((entry) => {
    const [, host, port] = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(entry) ?? [];
    const number = port === undefined ? defaultPort : Number(port);
    if (host === undefined || number < 1 || number > 65535) throw new Error(`"${entry}" is not host[:port]`);
    return { host: host.replace(/^\[|\]$/g, ''), port: number };
  });
  return nodes;
}

function database(db: string | undefined): { db?: number } {
  if (db === undefined || db === '') return {};
  if (!/^\d{1,5}$/.test(db)) throw new Error(`database "${db}" is not a number`);
  return { db: Number(db) };
}

/**
 * A client for `target`. `overrides` are this connection's behaviour (offline
 * queue, retries); on a Cluster the per-command ones go to every node's
 * connection and the queueing ones to the Cluster itself.
 */
export function connectRedis(target: RedisTarget, overrides: RedisOptions = {}): RedisClient {
  if (target.kind === 'node') return new Redis({ ...target.options, ...overrides });
  return new Cluster(target.nodes, clusterOptions(target.options, overrides));
}

/** Another connection to where `client` goes, with other behaviour: a subscriber, say. */
export function duplicateRedis(client: RedisClient, overrides: RedisOptions): RedisClient {
  if (client instanceof Cluster) return client.duplicate([], clusterOptions(client.options, overrides));
  return client.duplicate(overrides);
}

function clusterOptions(base: ClusterOptions, overrides: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, lazyConnect, ...perNode } = overrides;
  return {
    ...base,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    redisOptions: { ...base.redisOptions, ...perNode },
  };
}

/** What a BullMQ queue or worker connects with, and what closes the part of it BullMQ does not. */
export interface BullConnection {
  readonly connection: RedisOptions | Cluster;
  /** After the queues or workers using it are closed. */
  release(): void;
}

/**
 * What BullMQ's `connection` takes. For one node, options: BullMQ makes, and
 * closes, its own connections as before. For a Cluster, BullMQ wants a Cluster
 * instance; it does not close one it was given, so release() does.
 */
export function bullConnection(target: RedisTarget, overrides: RedisOptions): BullConnection {
  if (target.kind === 'node') return { connection: { ...target.options, ...overrides }, release: () => undefined };
  const cluster = new Cluster(target.nodes, clusterOptions(target.options, overrides));
  return { connection: cluster, release: () => cluster.disconnect() };
}

/** How long a close waits for a BullMQ queue or worker still connecting. */
const READY_BEFORE_CLOSE_MS = 2_000;

/**
 * Closes a BullMQ queue or worker once its connections are up (or after 2 s). One closed while
 * still connecting emits its connection's failed start after it has dropped its listeners, which
 * is an unhandled 'error' that takes the process down (taskforcesh/bullmq#3546).
 */
export async function closeBull(owner: { waitUntilReady(): Promise<unknown>; close(): Promise<void> }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, READY_BEFORE_CLOSE_MS)));
  await Promise.race([owner.waitUntilReady().catch(() => undefined), waited]);
  clearTimeout(timer);
  await owner.close();
}
