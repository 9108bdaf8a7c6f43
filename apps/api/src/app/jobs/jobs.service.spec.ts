import { ErrorCode } from '@drydock/core';
import { encodeJobCursor, JobType, type JobQueue, type JobRecord, type JobRecordStore, type TeamSlots } from '@drydock/jobs';
import type { AppConfig } from '../config/config';
import { requesterOf } from '../auth/requester';
import type { Principal } from '../auth/principal';
import { enqueueOptionsFor, JobsService } from './jobs.service';

const builder: Principal = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['team-a/**'] };

describe('JobsService.accept', () => {
  it("scopes a job to the caller's team and token name, with their Idempotency-Key when they sent one", () => {
    expect(enqueueOptionsFor({ requester: requesterOf(builder, 'retry-1'), request: { a: 1 }, engine: 'default' })).toEqual({
      team: 'team-a',
      owner: 'builder-a',
      engine: 'default',
      idempotencyKey: 'retry-1',
      request: { a: 1 },
    });
  });

  it('sends no Idempotency-Key nor dedup key the caller did not give', () => {
    const options = enqueueOptionsFor({ requester: requesterOf(builder), request: {}, engine: 'default' });
    expect(options).not.toHaveProperty('idempotencyKey');
    expect(options).not.toHaveProperty('dedupKey');
  });

  it('hands the queue the options built from the request', async () => {
    const enqueue = jest.fn(async () => ({ id: 'job', state: 'SUCCEEDED' }) as JobRecord);
    const config = { jobTimeoutSeconds: { PULL: 1800 } } as unknown as AppConfig;
    const slots = { positions: async () => [] } as unknown as TeamSlots;
    const service = new JobsService({ enqueue } as unknown as JobQueue, {} as never, {} as never, slots, config);
    const job = { requester: requesterOf(builder, 'k'), request: { reference: 'team-a/app:1' }, dedupKey: 'pull:team-a:x', engine: 'b' };
    await service.accept(JobType.PULL, { reference: 'x', repository: 'x', tagOrDigest: 'latest', registry: 'docker.io', team: 'team-a' }, job);
    expect(enqueue).toHaveBeenCalledWith(JobType.PULL, expect.anything(), { ...enqueueOptionsFor(job), dedupKey: 'b:pull:team-a:x', timeoutSeconds: 1800 });
  });

  it('sends the job to the engine the request was routed to, and shares identical work only on the same engine', () => {
    const on = (engine: string) => enqueueOptionsFor({ requester: requesterOf(builder), request: {}, dedupKey: 'pull:team-a:x', engine });
    expect(on('a')).toMatchObject({ engine: 'a', dedupKey: 'a:pull:team-a:x' });
    expect(on('b').dedupKey).not.toBe(on('a').dedupKey);
  });
});

describe('JobsService.page', () => {
  const pageWith = () => {
    const page = jest.fn(async () => ({ items: [], next: { createdAtMs: 5, id: 'j' } }));
    const slots = { positions: async () => [] } as unknown as TeamSlots;
    return { page, service: new JobsService({} as never, { page } as unknown as JobRecordStore, {} as never, slots, {} as AppConfig) };
  };

  it("keeps a non-admin to their own team and refuses another team's name as FORBIDDEN before Redis is asked", async () => {
    const { page, service } = pageWith();
    await service.page({ type: JobType.RUN }, { team: 'team-a', admin: false });
    expect(page).toHaveBeenCalledWith({ type: JobType.RUN, team: 'team-a' });
    await expect(service.page({ team: 'team-b' }, { team: 'team-a', admin: false })).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    expect(page).toHaveBeenCalledTimes(1);
  });

  it("reads GraphQL's explicit nulls as absent and hands back the next position as an opaque cursor", async () => {
    const { page, service } = pageWith();
    const answer = await service.page({ cursor: null, team: null, since: null, until: null, limit: null }, { team: 'ops', admin: true });
    expect(page).toHaveBeenCalledWith({});
    expect(answer.nextCursor).toBe(encodeJobCursor({ createdAtMs: 5, id: 'j' }));
  });

  it('refuses a window whose since is after its until as VALIDATION_FAILED', async () => {
    const { service } = pageWith();
    const window = { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' };
    await expect(service.page(window, { team: 'ops', admin: true })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
  });
});
