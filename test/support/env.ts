import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `scripts/services.sh test` started, from the environment or from .data/test/env. */
function load(): Record<string, string> {
  const file = join(__dirname, '../../.data/test/env');
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fromFile[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return { ...fromFile, ...(process.env as Record<string, string>) };
}

const env = load();

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/services.sh test (make test does)`);
  return value;
}

export const testEnv = {
  redisUrl: required('REDIS_URL'),
  /** The open registry: localhost:5001 */
  registry: required('E2E_REGISTRY'),
  /** The registry with htpasswd auth: localhost:5002 */
  authRegistry: required('E2E_AUTH_REGISTRY'),
  authUser: required('E2E_AUTH_USER'),
  authPassword: required('E2E_AUTH_PASSWORD'),
  /** busybox from scratch, in the open registry */
  fixture: required('E2E_FIXTURE'),
  /** A three-master Redis Cluster (redis+cluster://...); read only by the suites that use it. */
  get redisClusterUrl(): string {
    return required('E2E_REDIS_CLUSTER_URL');
  },
  /** A Sentinel watching one master (redis+sentinel://.../<master-name>). */
  get redisSentinelUrl(): string {
    return required('E2E_REDIS_SENTINEL_URL');
  },
};
