import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { ContainersController } from './containers.controller';
import { ContainersResolver } from './containers.resolver';
import { ContainersService } from './containers.service';

/** Containers over REST and GraphQL: runs queued as RUN jobs; list, logs, commit, remove. */
@Module({
  imports: [AuthModule, EngineModule, JobsModule],
  controllers: [ContainersController],
  providers: [ContainersService, ContainersResolver],
})
export class ContainersModule {}
