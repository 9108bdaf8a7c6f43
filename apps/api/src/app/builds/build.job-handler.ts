import { Inject, Injectable } from '@nestjs/common';
import { DockerEngine } from '@drydock/docker';
import { BuildJob, type CredentialSource } from '@drydock/jobs';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';
import { CREDENTIAL_SOURCE } from '../jobs/jobs.tokens';
import { ContextStore } from './context-store';

/** The BUILD handler, found by the jobs module: fenced by the configured limits. */
@JobHandlerProvider()
@Injectable()
export class BuildJobHandler extends BuildJob {
  constructor(
    @Inject(DockerEngine) engine: DockerEngine,
    @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource,
    @Inject(ContextStore) contexts: ContextStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(engine, credentials, contexts, { limits: config.build });
  }
}
