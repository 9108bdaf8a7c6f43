import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { ArtifactStoreModule } from './artifact-store.module';
import { ExportJobHandler } from './export.job-handler';
import { PullJobHandler, PushJobHandler } from './transfer.jobs';

/** The PULL, PUSH and EXPORT handlers: registry logins from the vault, export tars into the artifact store. */
@Module({
  imports: [EngineModule, JobsModule, ArtifactStoreModule],
  providers: [PullJobHandler, PushJobHandler, ExportJobHandler],
})
export class ImagesWorkerModule {}
