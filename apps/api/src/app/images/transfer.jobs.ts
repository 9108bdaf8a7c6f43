import { Inject, Injectable } from '@nestjs/common';
import { EnginePool } from '@drydock/docker';
import { PullJob, PushJob, type CredentialSource } from '@drydock/jobs';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';
import { CREDENTIAL_SOURCE } from '../jobs/jobs.tokens';

/** The PULL handler, found by the jobs module. */
@JobHandlerProvider()
@Injectable()
export class PullJobHandler extends PullJob {
  constructor(@Inject(EnginePool) engines: EnginePool, @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource) {
    super(engines, credentials);
  }
}

/** The PUSH handler, found by the jobs module. */
@JobHandlerProvider()
@Injectable()
export class PushJobHandler extends PushJob {
  constructor(@Inject(EnginePool) engines: EnginePool, @Inject(CREDENTIAL_SOURCE) credentials: CredentialSource) {
    super(engines, credentials);
  }
}
