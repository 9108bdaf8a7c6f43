import { Inject, Injectable } from '@nestjs/common';
import { DockerEngine } from '@drydock/docker';
import { PullJob, PushJob, type CredentialSource } from '@drydock/jobs';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';
import { CREDENTIAL_SOURCE } from '../jobs/jobs.tokens';

/** The PULL handler, found by the jobs module. */
@JobHandlerProvider()
@Injectable()
export class PullJobHandler extends PullJob {
  constructor(@Inject(DockerEngine) engine: DockerEngine, @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource) {
    super(engine, credentials);
  }
}

/** The PUSH handler, found by the jobs module. */
@JobHandlerProvider()
@Injectable()
export class PushJobHandler extends PushJob {
  constructor(@Inject(DockerEngine) engine: DockerEngine, @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource) {
    super(engine, credentials);
  }
}
