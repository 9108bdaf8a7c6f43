import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { startSweep } from '../common/periodic-sweep';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ArtifactStore } from './artifact-store';

/** Export tars under the data directory: the EXPORT handler writes them, the API streams them out. */
@Module({
  providers: [
    { provide: ArtifactStore, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new ArtifactStore(join(config.dataDir, 'artifacts')) },
  ],
  exports: [ArtifactStore],
})
export class ArtifactStoreModule implements OnModuleInit, OnApplicationShutdown {
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
