import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { startSweep } from '../common/periodic-sweep';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { RegistriesModule } from '../registries/registries.module';
import { ArtifactStore } from './artifact-store';
import { ExportController } from './export.controller';
import { ExportJobHandler } from './export.job-handler';
import { ExportResolver } from './export.resolver';
import { ExportService } from './export.service';
import { ImagesController } from './images.controller';
import { ImagesResolver } from './images.resolver';
import { ImagesService } from './images.service';
import { TransfersController } from './transfers.controller';
import { TransfersResolver } from './transfers.resolver';
import { TransfersService } from './transfers.service';
import { PullJobHandler, PushJobHandler } from './transfer.jobs';

@Module({
  imports: [RegistriesModule],
  controllers: [TransfersController, ExportController, ImagesController],
  providers: [
    { provide: ArtifactStore, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new ArtifactStore(join(config.dataDir, 'artifacts')) },
    ImagesService,
    ImagesResolver,
    TransfersService,
    TransfersResolver,
    ExportService,
    ExportResolver,
    PullJobHandler,
    PushJobHandler,
    ExportJobHandler,
  ],
  exports: [ImagesService],
})
export class ImagesModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Images');
  private stopSweep: () => void = () => undefined;

  constructor(
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Export tars live as long as their job's record: past the retention nobody can ask for them. */
  onModuleInit(): void {
    this.stopSweep = startSweep('expired export artifacts', () => this.artifacts.sweep(this.config.jobRetentionSeconds * 1000), this.logger);
  }

  onApplicationShutdown(): void {
    this.stopSweep();
  }
}
