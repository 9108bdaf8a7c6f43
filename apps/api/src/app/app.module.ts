import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriverConfig } from '@nestjs/apollo';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/exception.filter';
import { validationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { EngineModule } from './engine/engine.module';
import { graphqlOptions } from './graphql.options';
import { HealthModule } from './health/health.module';
import { ImagesModule } from './images/images.module';
import { RedisModule } from './redis/redis.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
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
        EngineModule,
        GraphQLModule.forRoot<ApolloDriverConfig>(graphqlOptions(() => true)),
        HealthModule,
        ImagesModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useValue: validationPipe },
      ],
    };
  }
}
