import { DrydockError, ErrorCode } from '@drydock/core';
import { EnginePool, type DockerEngine, type EngineSpec, type ImageCatalog } from '@drydock/docker';
import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { EngineRouter } from '../engine/engine-router';
import type { JobsService } from '../jobs/jobs.service';
import type { ArtifactStore } from './artifact-store';
import { ExportService } from './export.service';

const builder: Principal = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['team-a/**'] };
const viewer: Principal = { name: 'viewer-a', team: 'team-a', role: 'viewer', namespaces: ['team-a/**'] };
const admin: Principal = { name: 'admin', team: 'ops', role: 'admin', namespaces: [] };
const ID = `sha256:${'a'.repeat(64)}`;

const spec = (name: string): EngineSpec => ({ name, host: `unix:///nowhere/${name}.sock`, labels: {}, concurrency: null, tls: null });

/** A router over engines that each hold the images listed for them (with no list, one engine holding everything). */
function routerOver(inspect: jest.Mock, held?: Record<string, string[]>): EngineRouter {
  const names = held ? Object.keys(held) : ['default'];
  const pool = new EnginePool(
    names.map(spec),
    ({ name }) =>
      ({
        images: {
          inspect: async (ref: string) => {
            inspect(ref, name);
            if (held && !held[name]?.includes(ref)) throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `No such image: ${ref}`);
            return {};
          },
        },
      }) as unknown as DockerEngine,
    () => ({}) as ImageCatalog,
  );
  return new EngineRouter(pool, async () => ({ waiting: 0, running: 0 }));
}

function fakes(job: Partial<JobRecord> = {}, held?: Record<string, string[]>) {
  const inspect = jest.fn();
  const accept = jest.fn(async () => ({ id: 'job', type: JobType.EXPORT }) as JobRecord);
  const get = jest.fn(async () => ({ id: 'job', type: JobType.EXPORT, state: JobState.SUCCEEDED, ...job }) as JobRecord);
  const open = jest.fn(async () => ({ stream: {}, size: 1 }));
  const service = new ExportService(
    { accept, get } as unknown as JobsService,
    new NamespacePolicy(),
    routerOver(inspect, held),
    { open } as unknown as ArtifactStore,
  );
  return { service, inspect, accept, open };
}

async function refusal(work: Promise<unknown>): Promise<DrydockError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DrydockError);
  return error as DrydockError;
}

describe('ExportService', () => {
  it('refuses a reference outside the caller\'s namespaces before the engine is called, even beside its own', async () => {
    const { service, inspect, accept } = fakes();
    const error = await refusal(service.export(['team-a/app:1', 'team-b/app:1'], builder));
    expect(error.code).toBe(ErrorCode.FORBIDDEN);
    expect(inspect).not.toHaveBeenCalled();
    expect(accept).not.toHaveBeenCalled();
  });

  it('refuses a viewer before the engine is called', async () => {
    const { service, inspect } = fakes();
    expect((await refusal(service.export(['team-a/app:1'], viewer))).code).toBe(ErrorCode.FORBIDDEN);
    expect(inspect).not.toHaveBeenCalled();
  });

  it('refuses a bare image id from a builder, and takes it from an admin', async () => {
    const { service, inspect, accept } = fakes();
    expect((await refusal(service.export([ID], builder))).code).toBe(ErrorCode.FORBIDDEN);
    expect(inspect).not.toHaveBeenCalled();
    await service.export([ID, 'elsewhere/app'], admin);
    expect(accept).toHaveBeenCalledWith(JobType.EXPORT, { references: [ID, 'elsewhere/app:latest'], team: 'ops' }, expect.anything());
  });

  it('queues the references as the engine names them, once each, after checking each exists', async () => {
    const { service, inspect, accept } = fakes();
    await service.export(['team-a/app', 'team-a/app:latest', 'docker.io/team-a/app:2'], builder);
    expect(inspect.mock.calls).toEqual([['team-a/app:latest', 'default'], ['team-a/app:2', 'default']]);
    expect(accept).toHaveBeenCalledWith(
      JobType.EXPORT,
      { references: ['team-a/app:latest', 'team-a/app:2'], team: 'team-a' },
      { requester: { team: 'team-a', owner: 'builder-a' }, request: { references: ['team-a/app:latest', 'team-a/app:2'] }, engine: 'default' },
    );
  });

  it('exports from the one engine that holds the first image, checking every other image there', async () => {
    const { service, inspect, accept } = fakes({}, { a: ['team-a/app:1'], b: ['team-a/app:2', 'team-a/app:3'] });
    await service.export(['team-a/app:2', 'team-a/app:3'], builder);
    expect(accept).toHaveBeenCalledWith(JobType.EXPORT, expect.anything(), expect.objectContaining({ engine: 'b' }));
    expect(inspect.mock.calls.filter(([, engine]) => engine === 'a')).toEqual([['team-a/app:2', 'a']]);
  });

  it('refuses an export whose images are split over engines with IMAGE_NOT_FOUND naming the engine, queueing nothing', async () => {
    const { service, accept } = fakes({}, { a: ['team-a/app:1'], b: ['team-a/app:2'] });
    const error = await refusal(service.export(['team-a/app:2', 'team-a/app:1'], builder));
    expect(error.code).toBe(ErrorCode.IMAGE_NOT_FOUND);
    expect(error.message).toContain('team-a/app:1 on engine b');
    expect(accept).not.toHaveBeenCalled();
  });

  it('refuses an image on several engines with AMBIGUOUS_ENGINE naming them, unless the request names one', async () => {
    const { service, accept } = fakes({}, { a: ['team-a/app:1'], b: ['team-a/app:1'] });
    const error = await refusal(service.export(['team-a/app:1'], builder));
    expect(error.code).toBe(ErrorCode.AMBIGUOUS_ENGINE);
    expect(error.details).toEqual({ engines: ['a', 'b'] });
    await service.export(['team-a/app:1'], builder, undefined, undefined, 'a');
    expect(accept).toHaveBeenCalledWith(JobType.EXPORT, expect.anything(), expect.objectContaining({ engine: 'a' }));
    expect((await refusal(service.export(['team-a/app:1'], builder, undefined, undefined, 'nope'))).code).toBe(ErrorCode.UNKNOWN_ENGINE);
  });

  it('refuses an empty export and one of more than 32 references', async () => {
    const { service } = fakes();
    expect((await refusal(service.export([], builder))).code).toBe(ErrorCode.VALIDATION_FAILED);
    const many = Array.from({ length: 33 }, (_, i) => `team-a/app:${i}`);
    expect((await refusal(service.export(many, builder))).code).toBe(ErrorCode.VALIDATION_FAILED);
  });

  it('serves an artifact only for a SUCCEEDED EXPORT job', async () => {
    expect((await refusal(fakes({ type: JobType.BUILD }).service.artifact('job', builder))).code).toBe(ErrorCode.NOT_FOUND);
    const running = fakes({ state: JobState.RUNNING });
    expect((await refusal(running.service.artifact('job', builder))).code).toBe(ErrorCode.CONFLICT);
    expect(running.open).not.toHaveBeenCalled();
    expect(await fakes().service.artifact('job', builder)).toEqual({ stream: {}, size: 1 });
  });
});
