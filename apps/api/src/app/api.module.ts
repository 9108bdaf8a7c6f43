import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { AuditApiModule } from './audit/audit-api.module';
import { AuditModule } from './audit/audit.module';
import { AuditLog } from './audit/audit.service';
import { auditGraphqlRefusals } from './audit/graphql-refusals';
import { AuthModule } from './auth/auth.module';
import { graphqlAuth } from './auth/graphql-auth';
import { queryLimitsRule } from './auth/query-limits';
import { MutationRateLimiter } from './auth/rate-limiter';
import { TokenService } from './auth/token.service';
import { BuildsModule } from './builds/builds.module';
import { APP_CONFIG, type AppConfig } from './config/config';
import { ContainersModule } from './containers/containers.module';
import { EngineModule } from './engine/engine.module';
import { MergedCatalog } from './engine/merged-catalog';
import { EnginesModule } from './engines/engines.module';
import { graphqlOptions } from './graphql.options';
import { GraphQLWsLimits } from './graphql-ws-limits';
import { ImagesModule } from './images/images.module';
import { MeModule } from './auth/me';
import { imagesQueryCache } from './images/images-query-cache';
import { JobsApiModule } from './jobs/jobs-api.module';
import { RegistriesModule } from './registries/registries.module';
import { SecretsModule } from './secrets/secrets.module';
import { WebhooksApiModule } from './webhooks/webhooks-api.module';

/**
 * What `DRYDOCK_ROLE=api` adds to the common modules: REST controllers, the
 * GraphQL schema with graphql-ws, tokens and guards. It queues jobs and runs
 * none, so it needs no job handler.
 */
@Module({
  imports: [
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [AuthModule, EngineModule, AuditModule],
      inject: [TokenService, MutationRateLimiter, APP_CONFIG, MergedCatalog, AuditLog],
      useFactory: (tokens: TokenService, limiter: MutationRateLimiter, appConfig: AppConfig, catalog: MergedCatalog, audit: AuditLog) => {
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
    AuthModule,
    MeModule,
    AuditApiModule,
    JobsApiModule,
    ImagesModule,
    EnginesModule,
    BuildsModule,
    ContainersModule,
    RegistriesModule,
    SecretsModule,
    WebhooksApiModule,
  ],
  providers: [GraphQLWsLimits],
})
export class ApiModule {}
