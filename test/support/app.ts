import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/api/src/app/bootstrap';
import { loadConfig } from '../../apps/api/src/app/config/config';
import { testEnv } from './env';

export interface RunningApp {
  app: NestFastifyApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  close(): Promise<void>;
}

/** Boots the real application in this process, on a free loopback port, against the test services. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const config = loadConfig({
    REDIS_URL: testEnv.redisUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'warn',
    DRYDOCK_DATA_DIR: mkdtempSync(join(tmpdir(), 'drydock-e2e-')),
    DRYDOCK_KEY_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    ...env,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('app did not bind a TCP port');
  const url = `http://127.0.0.1:${address.port}`;
  return { app, url, wsUrl: `ws://127.0.0.1:${address.port}/graphql`, close: () => app.close() };
}
