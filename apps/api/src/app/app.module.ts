import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/exception.filter';
import { validationPipe } from './common/validation.pipe';
import { AuditModule } from './audit/audit.module';
import { AuditLog } from './audit/audit.service';
import { auditGraphqlRefusals } from './audit/graphql-refusals';
import { AuthModule } from './auth/auth.module';
import { graphqlAuth } from './auth/graphql-auth';
import { queryLimitsRule } from './auth/query-limits';
import { MutationRateLimiter } from './auth/rate-limiter';
import { TokenService } from './auth/token.service';
import { APP_CONFIG, type AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { EngineModule } from './engine/engine.module';
import { graphqlOptions } from './graphql.options';
import { GraphQLWsLimits } from './graphql-ws-limits';
import { HealthModule } from './health/health.module';
import { ImagesModule } from './images/images.module';
import { imagesQueryCache } from './images/images-query-cache';
import { ImageCatalog } from '@drydock/docker';
import { JobsModule } from './jobs/jobs.module';
import { BuildsModule } from './builds/builds.module';
import { ContainersModule } from './containers/containers.module';
import { RedisModule } from './redis/redis.module';
import { RegistriesModule } from './registries/registries.module';

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
        AuthModule,
        AuditModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [TokenService, MutationRateLimiter, APP_CONFIG, ImageCatalog, AuditLog],
          useFactory: (tokens: TokenService, limiter: MutationRateLimiter, appConfig: AppConfig, catalog: ImageCatalog, audit: AuditLog) => {
            const auth = graphqlAuth(tokens, limiter);
            return graphqlOptions(auth.onConnect, {
              httpContext: auth.httpContext,
              plugins: [auth.httpOperationPlugin, imagesQueryCache(catalog), auditGraphqlRefusals(audit)],
              validationRules: [
                queryLimitsRule({ maxDepth: appConfig.graphqlMaxDepth, maxFields: appConfig.graphqlMaxSelections, maxMutations: appConfig.graphqlMaxMutations }),
              ],
              maxTokens: 20_000,
            });
          },
        }),
        JobsModule,
        HealthModule,
        ImagesModule,
        BuildsModule,
        ContainersModule,
        RegistriesModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useValue: validationPipe },
        GraphQLWsLimits,
      ],
    };
  }
}
