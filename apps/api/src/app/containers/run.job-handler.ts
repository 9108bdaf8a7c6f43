import { Inject, Injectable } from '@nestjs/common';
import { EnginePool } from '@drydock/docker';
import { RunJob } from '@drydock/jobs';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';

/** The RUN handler, found by the jobs module. */
@JobHandlerProvider()
@Injectable()
export class RunJobHandler extends RunJob {
  constructor(@Inject(EnginePool) engines: EnginePool) {
    super(engines);
  }
}
