import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { EnginePool } from '@drydock/docker';
import { JOB_TYPES, JobEventBus, JobEventStore, JobQueue, JobRecordStore, JobType, TeamSlots } from '@drydock/jobs';
import { AuditLog } from '../audit/audit.service';
import { APP_CONFIG } from '../config/config';
import { JobHandlerProvider } from './job-handler.decorator';
import { JobWorkerHost } from './job-worker.host';
import { JOBS_REDIS } from './jobs.tokens';
import { WebhookDispatcher } from '../webhooks/webhook-queue';

/** A handler a feature module might provide; it is never run here. */
function handlerFor(type: JobType): Type<unknown> {
  @JobHandlerProvider()
  @Injectable()
  class FakeJobHandler {
    readonly type = type;
    handle = async () => ({});
  }
  return FakeJobHandler;
}

const perType = (value: number) => Object.fromEntries(JOB_TYPES.map((type) => [type, value]));

/** Boots the host in a worker role with these handlers; the stores are never reached before the check. */
async function boot(handlers: Type<unknown>[]): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [
      JobWorkerHost,
      ...handlers,
      { provide: APP_CONFIG, useValue: { role: 'worker', redis: { kind: 'node', options: { host: '127.0.0.1', port: 1 } }, keyPrefix: 'spec', jobRetentionSeconds: 60, redisGraceSeconds: 60, teamMaxRunning: perType(1), jobTimeoutSeconds: perType(60), workerEngines: ['default'] } },
      { provide: JOBS_REDIS, useValue: { on: () => undefined } },
      { provide: JobRecordStore, useValue: {} },
      { provide: JobEventStore, useValue: {} },
      { provide: JobEventBus, useValue: {} },
      { provide: TeamSlots, useValue: {} },
      { provide: AuditLog, useValue: {} },
      { provide: EnginePool, useValue: { get: () => ({ name: 'default', spec: { concurrency: null }, catalog: {} }) } },
      { provide: JobQueue, useValue: { limitEngine: async () => undefined } },
      { provide: WebhookDispatcher, useValue: {} },
    ],
  }).compile();
  await moduleRef.init();
}

describe('JobWorkerHost', () => {
  it('refuses to start when a job type has no handler among the ones the modules provide', async () => {
    await expect(boot([handlerFor(JobType.PULL), handlerFor(JobType.PUSH)])).rejects.toThrow('no handler for BUILD, RUN');
  });

  it('refuses to start when two modules provide a handler for the same job type', async () => {
    const all = JOB_TYPES.map(handlerFor);
    await expect(boot([...all, handlerFor(JobType.PULL)])).rejects.toThrow('two handlers for PULL jobs');
  });
});
