import { DrydockError, ErrorCode } from '@drydock/core';
import { type DockerEngine } from '@drydock/docker';
import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import type { JobsService } from '../jobs/jobs.service';
import type { ArtifactStore } from './artifact-store';
import { ExportService } from './export.service';

const builder: Principal = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['team-a/**'] };
const viewer: Principal = { name: 'viewer-a', team: 'team-a', role: 'viewer', namespaces: ['team-a/**'] };
const admin: Principal = { name: 'admin', team: 'ops', role: 'admin', namespaces: [] };
const ID = `sha256:${'a'.repeat(64)}`;

function fakes(job: Partial<JobRecord> = {}) {
  const inspect = jest.fn(async () => ({}));
  const accept = jest.fn(async () => ({ id: 'job', type: JobType.EXPORT }) as JobRecord);
  const get = jest.fn(async () => ({ id: 'job', type: JobType.EXPORT, state: JobState.SUCCEEDED, ...job }) as JobRecord);
  const open = jest.fn(async () => ({ stream: {}, size: 1 }));
  const service = new ExportService(
    { accept, get } as unknown as JobsService,
    new NamespacePolicy(),
    { images: { inspect } } as unknown as DockerEngine,
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
    expect(inspect.mock.calls).toEqual([['team-a/app:latest'], ['team-a/app:2']]);
    expect(accept).toHaveBeenCalledWith(
      JobType.EXPORT,
      { references: ['team-a/app:latest', 'team-a/app:2'], team: 'team-a' },
      { requester: { team: 'team-a', owner: 'builder-a' }, request: { references: ['team-a/app:latest', 'team-a/app:2'] } },
    );
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
