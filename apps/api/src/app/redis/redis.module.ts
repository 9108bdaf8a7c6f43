import { Global, Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { connectRedis, type RedisClient } from '@drydock/jobs';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { carryOverUntaggedKeys } from './untagged-keys';

/** The command connection for request handlers: fails fast rather than queueing while Redis is away. */
export const REDIS = Symbol('REDIS');

/** While Redis is away ioredis reports every reconnect attempt: say it once, and again when it is back. */
export function watchRedis<T extends RedisClient>(client: T, name: string): T {
  const logger = new Logger('Redis');
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`${name}: Redis unavailable (${error.message}); retrying`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`${name}: Redis is back`);
  });
  return client;
}

/** How long boot waits for Redis; past it the app starts anyway and /health/ready says Redis is down. */
const CONNECT_WAIT_MS = 5_000;

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        watchRedis(connectRedis(config.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }), 'requests'),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Without an offline queue, a request that arrived before the connection would fail: wait for it first. */
  async onModuleInit(): Promise<void> {
    await this.connected();
    if (this.config.redis.kind === 'cluster' || this.redis.status !== 'ready') return;
    // A Redis away at boot is reported by readiness; its old keys are carried over at the next start.
    await carryOverUntaggedKeys(this.redis, this.config.keyPrefix, new Logger('Redis')).catch((error: unknown) =>
      new Logger('Redis').warn(`old Redis keys not carried over: ${(error as Error).message}`),
    );
  }

  private async connected(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CONNECT_WAIT_MS);
      timer.unref();
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}
