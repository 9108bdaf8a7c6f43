import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { RunJobHandler } from './run.job-handler';
import { ContainerSweeper } from './sweeper';

/** The RUN handler, and the sweep of the stale containers runs leave behind. */
@Module({
  imports: [EngineModule],
  providers: [RunJobHandler, ContainerSweeper],
})
export class ContainersWorkerModule {}
