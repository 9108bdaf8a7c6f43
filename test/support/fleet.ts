import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisKeys, writeTokensFile } from './app';
import { startProcess, type DrydockProcess } from './process';

/** Drydock processes of one deployment: one Redis key prefix, one tokens file, one data dir (the API spools contexts there, the worker reads them). */
export interface Fleet {
  /** An admin's token, valid in every process of the fleet. */
  token: string;
  /** The fleet's DRYDOCK_KEY_PREFIX, which also labels its containers (io.drydock.deployment). */
  prefix: string;
  start(role: 'api' | 'worker'): Promise<DrydockProcess>;
  /** Kills whatever still runs and drops the fleet's Redis keys. */
  stop(): Promise<void>;
}

export function processFleet(name: string, extraEnv: () => Record<string, string> = () => ({})): Fleet {
  const dataDir = mkdtempSync(join(tmpdir(), `drydock-${name}-`));
  const { file, tokens } = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }]);
  const env = {
    DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    DRYDOCK_TOKENS_FILE: file,
    DRYDOCK_DATA_DIR: dataDir,
    // A worker's lock outlasts the Redis grace period: a short grace, and a killed worker's job is taken over sooner.
    DRYDOCK_REDIS_GRACE_SECONDS: '5',
  };
  const started: DrydockProcess[] = [];
  return {
    token: tokens['admin'] as string,
    prefix: env.DRYDOCK_KEY_PREFIX,
    start: async (role) => {
      // Read at start: what it names (a second engine's socket) may exist only once the suite is under way.
      const child = await startProcess(role, { ...env, ...extraEnv() });
      started.push(child);
      return child;
    },
    stop: async () => {
      for (const child of started) if (child.child.exitCode === null) child.child.kill('SIGKILL');
      await Promise.all(started.map((child) => child.exited));
      await dropRedisKeys(env.DRYDOCK_KEY_PREFIX);
    },
  };
}
