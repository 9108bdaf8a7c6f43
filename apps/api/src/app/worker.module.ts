import { Module } from '@nestjs/common';
import { BuildsWorkerModule } from './builds/builds-worker.module';
import { ContainersWorkerModule } from './containers/containers-worker.module';
import { ImagesWorkerModule } from './images/images-worker.module';
import { JobWorkerModule } from './jobs/job-worker.module';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';

/**
 * What `DRYDOCK_ROLE=worker` adds to the common modules: the job worker and
 * each feature's handlers, with the stores they read and write. No GraphQL
 * schema and no controller: over HTTP a worker answers health only.
 */
@Module({
  imports: [JobWorkerModule, ImagesWorkerModule, BuildsWorkerModule, ContainersWorkerModule, WebhooksWorkerModule],
})
export class WorkerModule {}
