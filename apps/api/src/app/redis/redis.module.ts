import { Global, Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** The command connection for request handlers: fails fast rather than queueing while Redis is away. */
export const REDIS = Symbol('REDIS');

/** While Redis is away ioredis reports every reconnect attempt: say it once, and again when it is back. */
export function watchRedis(client: Redis, name: string): Redis {
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
        watchRedis(new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }), 'requests'),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Without an offline queue, a request that arrived before the connection would fail: wait for it first. */
  async onModuleInit(): Promise<void> {
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
