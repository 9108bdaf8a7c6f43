import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { EngineModule } from '../engine/engine.module';
import { JobWorkerHost } from './job-worker.host';
import { JobsModule } from './jobs.module';
import { CLOSE_GRACE_MS, within } from './within';

/** SIGTERM: running jobs get this long to finish before they are handed back to the queue. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/**
 * The BullMQ worker with every handler the feature modules' worker parts
 * provide (JobHandlerProvider). Only the roles that run jobs import it; the
 * API enqueues through JobsModule and needs no handler.
 */
@Module({
  imports: [DiscoveryModule, JobsModule, AuditModule, EngineModule],
  providers: [JobWorkerHost],
  exports: [JobWorkerHost],
})
export class JobWorkerModule implements OnApplicationShutdown {
  constructor(@Inject(JobWorkerHost) private readonly host: JobWorkerHost) {}

  /** Runs before JobsModule closes the queue, the bus and their Redis: Nest shuts importers down first. */
  async onApplicationShutdown(): Promise<void> {
    await within(this.host.close(SHUTDOWN_DEADLINE_MS), SHUTDOWN_DEADLINE_MS + CLOSE_GRACE_MS);
  }
}
