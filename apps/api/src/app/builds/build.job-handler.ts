import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { EnginePool } from '@drydock/docker';
import { BuildJob, NO_BUILD_SECRETS, type BuildSecretSource, type CredentialSource } from '@drydock/jobs';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';
import { BUILD_SECRET_SOURCE, CREDENTIAL_SOURCE } from '../jobs/jobs.tokens';
import { ContextStore } from './context-store';

/** The BUILD handler, found by the jobs module: fenced by the configured limits. */
@JobHandlerProvider()
@Injectable()
export class BuildJobHandler extends BuildJob implements OnModuleDestroy {
  constructor(
    @Inject(EnginePool) engines: EnginePool,
    @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource,
    @Inject(ContextStore) contexts: ContextStore,
    @Inject(APP_CONFIG) config: AppConfig,
    // Optional until the secret store provides it: without one, every secret a build asks for is absent.
    @Optional() @Inject(BUILD_SECRET_SOURCE) secrets?: BuildSecretSource,
  ) {
    super(engines, credentials, contexts, { limits: config.build }, secrets ?? NO_BUILD_SECRETS, config.syncedContexts);
  }

  /** A prune still waiting for the engine to be idle is left to the next worker's builds. */
  onModuleDestroy(): void {
    this.syncedContexts.close();
  }
}
