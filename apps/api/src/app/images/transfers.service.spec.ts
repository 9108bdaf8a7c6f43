import { ErrorCode } from '@drydock/core';
import { JobType, type PushJobData } from '@drydock/jobs';
import { refusalOf } from '../testing/refusal';
import { admin, newTestService, teamA, viewerA, type TestService } from '../testing/test-service';
import { TransfersService } from './transfers.service';

describe('TransfersService', () => {
  let t: TestService<TransfersService>;
  beforeEach(async () => {
    t = await newTestService(TransfersService);
    t.engine.addImage('team-a/app:1', 'team-a/app:2');
    t.engine.addImage('team-a/app:latest');
    t.engine.addImage('team-a/other:1');
  });
  afterEach(() => t.close());

  const pushed = () => t.jobs.only().data as PushJobData;

  describe('push', () => {
    it('pushes all tags of a repository, each once and sorted, and no other repository', async () => {
      await t.sut.push('team-a/app', true, teamA);
      expect(pushed()).toMatchObject({ repository: 'team-a/app', tag: null, tags: ['1', '2', 'latest'] });
      expect(t.jobs.only().options.request).toEqual({ reference: 'team-a/app', allTags: true, tags: ['1', '2', 'latest'] });
    });

    it('pushes only the named tag without allTags', async () => {
      await t.sut.push('team-a/app:2', false, teamA);
      expect(pushed()).toMatchObject({ repository: 'team-a/app', tag: '2', tags: ['2'] });
    });

    it('pushes latest when the reference names no tag', async () => {
      await t.sut.push('team-a/app', false, teamA);
      expect(pushed()).toMatchObject({ tag: 'latest', tags: ['latest'] });
    });

    it('pushes as the team of the token and keeps its idempotency key', async () => {
      await t.sut.push('team-a/app:1', false, teamA, 'key-1');
      expect(pushed().team).toBe('team-a');
      expect(t.jobs.only().options).toMatchObject({ team: 'team-a', owner: 'builder-a', idempotencyKey: 'key-1' });
    });

    it('refuses a tag that is not here with IMAGE_NOT_FOUND, and a repository with no local tag', async () => {
      expect(await refusalOf(t.sut.push('team-a/app:3', false, teamA))).toBe(ErrorCode.IMAGE_NOT_FOUND);
      expect(await refusalOf(t.sut.push('team-a/absent', true, teamA))).toBe(ErrorCode.IMAGE_NOT_FOUND);
      expect(t.jobs.enqueued).toEqual([]);
    });

    it('refuses a digest reference and an image id', async () => {
      expect(await refusalOf(t.sut.push(`team-a/app@sha256:${'a'.repeat(64)}`, false, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(await refusalOf(t.sut.push('a'.repeat(64), false, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(t.jobs.enqueued).toEqual([]);
    });

    it("refuses a push of another team's repository with FORBIDDEN, and a viewer's push", async () => {
      t.engine.addImage('team-b/app:1');
      expect(await refusalOf(t.sut.push('team-b/app:1', false, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.push('team-a/app:1', false, viewerA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.jobs.enqueued).toEqual([]);
    });

    it("lets an admin push any team's repository", async () => {
      t.engine.addImage('team-b/app:1');
      await t.sut.push('team-b/app:1', false, admin);
      expect(pushed()).toMatchObject({ repository: 'team-b/app', tags: ['1'], team: 'ops' });
    });
  });

  describe('pull', () => {
    it('queues a pull by tag, shared with the same pull of the same team', async () => {
      await t.sut.pull('team-a/base', undefined, teamA);
      expect(t.jobs.only()).toMatchObject({
        type: JobType.PULL,
        data: { reference: 'team-a/base:latest', repository: 'team-a/base', tagOrDigest: 'latest', registry: 'docker.io', team: 'team-a' },
        options: { engine: 'default', dedupKey: 'default:pull:team-a:team-a/base:latest:' },
      });
    });

    it('queues a pull by digest under repository@digest', async () => {
      const digest = `sha256:${'b'.repeat(64)}`;
      await t.sut.pull(`team-a/base@${digest}`, 'linux/arm64', teamA);
      expect(t.jobs.only().data).toMatchObject({ reference: `team-a/base@${digest}`, tagOrDigest: digest, platform: 'linux/arm64' });
    });

    it("refuses a pull into another team's namespace, by a viewer, or of an image id, queueing nothing", async () => {
      expect(await refusalOf(t.sut.pull('team-b/base:1', undefined, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.pull('busybox', undefined, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.pull('team-a/base:1', undefined, viewerA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.pull('c'.repeat(64), undefined, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(t.jobs.enqueued).toEqual([]);
    });
  });

  describe('on two engines', () => {
    let two: TestService<TransfersService>;
    beforeEach(async () => {
      two = await newTestService(TransfersService, {}, { engines: ['a', 'b'] });
    });
    afterEach(() => two.close());
    const on = (name: string) => (two.engines[name] as TestService<TransfersService>['engines'][string]).engine;

    it('pushes from the one engine that has the tag, without being told', async () => {
      on('b').addImage('team-a/app:1');
      await two.sut.push('team-a/app:1', false, teamA);
      expect(two.jobs.only().options.engine).toBe('b');
    });

    it('refuses a tag on both engines with AMBIGUOUS_ENGINE naming them, and pushes from the engine named', async () => {
      on('a').addImage('team-a/app:1');
      on('b').addImage('team-a/app:1');
      const error = await two.sut.push('team-a/app:1', false, teamA).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.AMBIGUOUS_ENGINE, details: { engines: ['a', 'b'] } });
      expect(two.jobs.enqueued).toEqual([]);
      await two.sut.push('team-a/app:1', false, teamA, undefined, undefined, 'a');
      expect(two.jobs.only().options.engine).toBe('a');
    });

    it('pushes every tag of the engine holding the repository, and answers IMAGE_NOT_FOUND for an engine without it', async () => {
      on('b').addImage('team-a/app:1', 'team-a/app:2');
      expect(await refusalOf(two.sut.push('team-a/app', true, teamA, undefined, undefined, 'a'))).toBe(ErrorCode.IMAGE_NOT_FOUND);
      await two.sut.push('team-a/app', true, teamA);
      expect(two.jobs.only()).toMatchObject({ data: { tags: ['1', '2'] }, options: { engine: 'b' } });
    });

    it('refuses an engine that is not configured with UNKNOWN_ENGINE, queueing nothing', async () => {
      expect(await refusalOf(two.sut.push('team-a/app:1', false, teamA, undefined, undefined, 'nope'))).toBe(ErrorCode.UNKNOWN_ENGINE);
      expect(await refusalOf(two.sut.pull('team-a/base:1', undefined, teamA, undefined, undefined, 'nope'))).toBe(ErrorCode.UNKNOWN_ENGINE);
      expect(two.jobs.enqueued).toEqual([]);
    });

    it('pulls into the healthy engine with the fewest waiting jobs, and into the engine named', async () => {
      (two.engines['a'] as { load: { waiting: number } }).load.waiting = 3;
      await two.sut.pull('team-a/base:1', undefined, teamA);
      expect(two.jobs.enqueued[0]?.options.engine).toBe('b');
      (two.engines['b'] as { catalog: { isLive: boolean } }).catalog.isLive = false;
      await two.sut.pull('team-a/base:2', undefined, teamA);
      expect(two.jobs.enqueued[1]?.options.engine).toBe('a');
      await two.sut.pull('team-a/base:3', undefined, teamA, undefined, undefined, 'b');
      expect(two.jobs.enqueued[2]?.options).toMatchObject({ engine: 'b', dedupKey: 'b:pull:team-a:team-a/base:3:' });
    });
  });
});
