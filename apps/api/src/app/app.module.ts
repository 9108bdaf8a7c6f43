import { DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { AllExceptionsFilter } from './common/exception.filter';
import { validationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { TelemetryModule } from './telemetry/telemetry.module';
import { WorkerModule } from './worker.module';

/** What every role runs: configuration, logs, the requests' Redis, health, and errors answered as problems. */
function commonImports(config: AppConfig): Array<DynamicModule | Type<unknown>> {
  return [
    ConfigModule.forRoot(config),
    LoggerModule.forRoot({
      pinoHttp: {
        level: config.logLevel,
        // Tokens and registry passwords never reach a log line.
        redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-registry-auth"]'],
        customProps: () => ({ service: 'drydock', role: config.role }),
      },
    }),
    RedisModule,
    HealthModule,
    MetricsModule.forRoot(config),
    TelemetryModule,
  ];
}

const commonProviders: Provider[] = [
  { provide: APP_FILTER, useClass: AllExceptionsFilter },
  { provide: APP_PIPE, useValue: validationPipe },
];

/**
 * The process's root: the common modules, then ApiModule (`api`),
 * WorkerModule (`worker`) or both (`all`, the default). The engine, jobs and
 * feature modules come in through the ones that use them.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...commonImports(config), ...(config.role === 'worker' ? [] : [ApiModule]), ...(config.role === 'api' ? [] : [WorkerModule])],
      providers: commonProviders,
    };
  }
}
