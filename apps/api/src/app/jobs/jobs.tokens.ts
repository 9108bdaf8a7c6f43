import type { RedisOptions } from 'ioredis';

/** The jobs library's Redis command connection (stores); shared by API and worker roles. */
export const JOBS_REDIS = Symbol('JOBS_REDIS');
/** Where handlers get registry logins (the credential vault). */
export const CREDENTIAL_SOURCE = Symbol('CREDENTIAL_SOURCE');
/** Where the BUILD handler gets build secrets (the secret store). */
export const BUILD_SECRET_SOURCE = Symbol('BUILD_SECRET_SOURCE');

/** ioredis takes a URL, BullMQ wants options: one parse for both. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace('/', '');
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
