import { Inject, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { startSweep } from '../common/periodic-sweep';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ContextStore } from './context-store';

/** The build-context spool (DRYDOCK_CONTEXTS_DIR): the API writes an upload there, the BUILD handler reads it. */
@Module({
  providers: [
    {
      provide: ContextStore,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new ContextStore(config.contextsDir, config.buildContextMaxBytes, config.teamContextMaxBytes),
    },
  ],
  exports: [ContextStore],
})
export class ContextStoreModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Builds');
  private stopSweep: () => void = () => undefined;

  constructor(
    @Inject(ContextStore) private readonly contexts: ContextStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Spooled contexts nobody will build (never used, or their job cancelled while queued) go after the job retention. */
  onModuleInit(): void {
    this.stopSweep = startSweep('stale build contexts', () => this.contexts.sweep(this.config.jobRetentionSeconds * 1000), this.logger);
  }

  onApplicationShutdown(): void {
    this.stopSweep();
  }
}
