import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { RegistryCredentialsModule } from '../registries/registry-credentials.module';
import { ArtifactStoreModule } from './artifact-store.module';
import { ExportController } from './export.controller';
import { ExportResolver } from './export.resolver';
import { ExportService } from './export.service';
import { ImagesController } from './images.controller';
import { ImagesResolver } from './images.resolver';
import { ImagesService } from './images.service';
import { TransfersController } from './transfers.controller';
import { TransfersResolver } from './transfers.resolver';
import { TransfersService } from './transfers.service';

/** Images over REST and GraphQL: read, tag, remove, search; pulls, pushes and exports queued as jobs. */
@Module({
  imports: [AuthModule, EngineModule, JobsModule, RegistryCredentialsModule, ArtifactStoreModule],
  controllers: [TransfersController, ExportController, ImagesController],
  providers: [ImagesService, ImagesResolver, TransfersService, TransfersResolver, ExportService, ExportResolver],
  exports: [ImagesService],
})
export class ImagesModule {}
