import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { BuildSecretsModule } from '../secrets/build-secrets.module';
import { BuildsController } from './builds.controller';
import { BuildsResolver } from './builds.resolver';
import { BuildsService } from './builds.service';
import { ContextStoreModule } from './context-store.module';

/** Builds over REST and GraphQL: checks the request, spools its context and queues a BUILD job. */
@Module({
  imports: [AuthModule, EngineModule, JobsModule, ContextStoreModule, BuildSecretsModule],
  controllers: [BuildsController],
  providers: [BuildsService, BuildsResolver],
})
export class BuildsModule {}
