import { redisKeyBase } from '@drydock/jobs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/api/src/app/bootstrap';
import { loadConfig, type AppConfig } from '../../apps/api/src/app/config/config';
import type { TokenRole } from '../../apps/api/src/app/auth/principal';
import { generateToken, hashToken } from '../../apps/api/src/app/auth/tokens-file';
import { testEnv } from './env';

/** A token a suite wants: the entry of the tokens file, without the hash. */
export interface TokenSpec {
  name: string;
  team: string;
  role: TokenRole;
  namespaces?: string[];
}

export interface StartOptions {
  /**
   * Tokens to write into the app's tokens file besides the default admin
   * (`admin`, team `ops`). `false` writes no file at all, so the app makes its
   * own admin token on first start (what `make run` does).
   */
  tokens?: TokenSpec[] | false;
}

export interface RunningApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** The default admin's bearer token ('' when StartOptions.tokens is false). */
  token: string;
  /** Bearer tokens by name, the default admin's included. */
  tokens: Record<string, string>;
  /** `{ authorization: 'Bearer <admin token>' }`: for gql() headers and wsClient() connectionParams. */
  auth: { authorization: string };
  close(): Promise<void>;
}

/** `{ authorization: 'Bearer <token>' }` */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** Writes a tokens file (hashes only) into `dir`; returns its path and the tokens by name. */
export function writeTokensFile(dir: string, specs: TokenSpec[]): { file: string; tokens: Record<string, string> } {
  const tokens: Record<string, string> = {};
  const entries = specs.map((spec) => {
    const token = generateToken();
    tokens[spec.name] = token;
    return { name: spec.name, team: spec.team, role: spec.role, namespaces: spec.namespaces ?? [], tokenSha256: hashToken(token) };
  });
  const file = join(dir, `tokens-${randomUUID().slice(0, 8)}.json`);
  writeFileSync(file, JSON.stringify(entries, null, 2), { mode: 0o600 });
  return { file, tokens };
}

/** Deletes every Redis key under a suite's prefix (audit trail, vault, rate-limit windows, jobs): suites clean up after themselves. */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(testEnv.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyBase(prefix)}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Boots the real application in this process, on a free loopback port, against the test services. */
export async function startApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningApp> {
  const dataDir = env['DRYDOCK_DATA_DIR'] ?? mkdtempSync(join(tmpdir(), 'drydock-e2e-'));
  let tokens: Record<string, string> = {};
  const fileEnv: Record<string, string> = {};
  if (options.tokens !== false && env['DRYDOCK_TOKENS_FILE'] === undefined) {
    const written = writeTokensFile(dataDir, [{ name: 'admin', team: 'ops', role: 'admin' }, ...(options.tokens ?? [])]);
    tokens = written.tokens;
    fileEnv['DRYDOCK_TOKENS_FILE'] = written.file;
  }
  const config = loadConfig({
    REDIS_URL: testEnv.redisUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'warn',
    DRYDOCK_DATA_DIR: dataDir,
    DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    ...fileEnv,
    ...env,
  });
  const app = await createApp(config);
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('app did not bind a TCP port');
  const url = `http://127.0.0.1:${address.port}`;
  const token = tokens['admin'] ?? '';
  return {
    app,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${address.port}/graphql`,
    token,
    tokens,
    auth: bearer(token),
    close: () => app.close(),
  };
}

/**
 * The two-team app several suites use: a builder and a viewer of team-a, a builder of
 * team-b, each writing under `<ns>/<team>/**`, with no mutation rate limit.
 */
export function startTwoTeamApp(ns: string): Promise<RunningApp> {
  return startApp(
    { DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' },
    {
      tokens: [
        { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: [`${ns}/team-a/**`] },
        { name: 'viewer-a', team: 'team-a', role: 'viewer' },
        { name: 'builder-b', team: 'team-b', role: 'builder', namespaces: [`${ns}/team-b/**`] },
      ],
    },
  );
}
