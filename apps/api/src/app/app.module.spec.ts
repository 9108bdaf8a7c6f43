import type { Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { Test, type TestingModule } from '@nestjs/testing';
import { JOB_TYPES, JobEventBus, JobEventStore, JobQueue, JobRecordStore, type JobHandler } from '@drydock/jobs';
import { AppModule } from './app.module';
import { TokenService } from './auth/token.service';
import { loadConfig, type Role } from './config/config';
import { GraphQLWsLimits } from './graphql-ws-limits';
import { WorkerMetricsController } from './metrics/metrics.controller';
import { HealthController } from './health/health.controller';
import { JobHandlerProvider } from './jobs/job-handler.decorator';
import { JobWorkerHost } from './jobs/job-worker.host';
import { BUILD_SECRET_SOURCE, JOBS_REDIS } from './jobs/jobs.tokens';
import { REDIS } from './redis/redis.module';

/**
 * Resolves every role's module graph without starting it: a module that uses
 * a provider it does not import fails here. Compiling builds the providers but
 * runs no lifecycle hook; only what would open a connection is replaced.
 */
async function compile(role: Role): Promise<TestingModule> {
  const config = { ...loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', DRYDOCK_DATA_DIR: '/nonexistent' }), role };
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  for (const token of [REDIS, JOBS_REDIS, JobQueue, JobEventBus, JobEventStore, JobRecordStore]) {
    builder = builder.overrideProvider(token).useValue({});
  }
  return builder.compile();
}

function controllersOf(moduleRef: TestingModule): Type<unknown>[] {
  return [...moduleRef.get(ModulesContainer).values()].flatMap((module) => [...module.controllers.values()].map((wrapper) => wrapper.metatype as Type<unknown>));
}

function providerTypes(moduleRef: TestingModule): Type<unknown>[] {
  return [...moduleRef.get(ModulesContainer).values()].flatMap((module) =>
    [...module.providers.values()].map((wrapper) => wrapper.metatype).filter((type): type is Type<unknown> => typeof type === 'function'),
  );
}

function handlerTypes(moduleRef: TestingModule): string[] {
  return [...moduleRef.get(ModulesContainer).values()]
    .flatMap((module) => [...module.providers.values()])
    .filter((wrapper) => wrapper.metatype && Reflect.getMetadata(JobHandlerProvider.KEY, wrapper.metatype) !== undefined)
    .map((wrapper) => (wrapper.instance as JobHandler).type)
    .sort();
}

function hasModule(moduleRef: TestingModule, type: Type<unknown>): boolean {
  return [...moduleRef.get(ModulesContainer).values()].some((module) => module.metatype === type);
}

// Never closed: nothing was started, and closing would run the shutdown hooks against the stand-ins.
describe('the module graph of each role', () => {
  const boot = compile;

  it('gives a worker one handler per job type, health and its token-checked metrics as its only controllers, no GraphQL schema and no token service (it mints no token nobody would see)', async () => {
    const worker = await boot('worker');
    expect(handlerTypes(worker)).toEqual([...JOB_TYPES].sort());
    expect(controllersOf(worker)).toEqual([HealthController, WorkerMetricsController]);
    expect(hasModule(worker, GraphQLModule)).toBe(false);
    expect(providerTypes(worker)).not.toContain(GraphQLWsLimits);
    expect(providerTypes(worker)).not.toContain(TokenService);
    expect(providerTypes(worker)).toContain(JobWorkerHost);
  });

  it('gives a worker the build secret store as the BUILD handler\'s secret source', async () => {
    const worker = await boot('worker');
    expect(worker.get(BUILD_SECRET_SOURCE, { strict: false })).toEqual({ secretFor: expect.any(Function) });
  });

  it('gives the API its controllers and schema but no job handler and no worker host', async () => {
    const api = await boot('api');
    expect(handlerTypes(api)).toEqual([]);
    expect(providerTypes(api)).not.toContain(JobWorkerHost);
    expect(hasModule(api, GraphQLModule)).toBe(true);
    expect(controllersOf(api)).toContain(HealthController);
    expect(controllersOf(api).length).toBeGreaterThan(5);
  });

  it('gives the default role both, each handler once', async () => {
    const all = await boot('all');
    expect(handlerTypes(all)).toEqual([...JOB_TYPES].sort());
    expect(hasModule(all, GraphQLModule)).toBe(true);
    expect(controllersOf(all)).toEqual(controllersOf(await boot('api')));
  });
});
