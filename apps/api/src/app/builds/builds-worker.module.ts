import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { BuildJobHandler } from './build.job-handler';
import { ContextStoreModule } from './context-store.module';

/** The BUILD handler: it reads the spooled context and logs in with the team's registry credentials. */
@Module({
  imports: [EngineModule, JobsModule, ContextStoreModule],
  providers: [BuildJobHandler],
})
export class BuildsWorkerModule {}
