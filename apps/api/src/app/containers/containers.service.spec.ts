import { ErrorCode } from '@drydock/core';
import { JobType, RUN_LABELS, type RunJobData } from '@drydock/jobs';
import { refusalOf } from '../testing/refusal';
import { admin, newTestService, teamA, viewerA, type TestService } from '../testing/test-service';
import { ContainersService } from './containers.service';

const teamB = { ...teamA, name: 'builder-b', team: 'team-b', namespaces: ['team-b/**'] };

describe('ContainersService', () => {
  let t: TestService<ContainersService>;
  /** A stopped container of team-a's, made by this installation. */
  let ownId: string;
  beforeEach(async () => {
    t = await newTestService(ContainersService);
    ownId = t.engine.addContainer({ id: 'a'.repeat(64), labels: { [RUN_LABELS.team]: 'team-a', [RUN_LABELS.deployment]: t.config.keyPrefix } }).id;
  });
  afterEach(() => t.close());

  describe('commit', () => {
    it("refuses a commit into another team's namespace, or by a viewer, before the engine is called", async () => {
      expect(await refusalOf(t.sut.commit(ownId, { repository: 'team-b/snap', tag: '1' }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.commit(ownId, { repository: 'team-a/snap', tag: '1' }, viewerA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.engine.calls).toEqual([]);
    });

    it("answers another team's container as CONTAINER_NOT_FOUND, committing nothing", async () => {
      expect(await refusalOf(t.sut.commit(ownId, { repository: 'team-b/snap', tag: '1' }, teamB))).toBe(ErrorCode.CONTAINER_NOT_FOUND);
      expect(t.engine.callsTo('containers.commit')).toEqual([]);
    });

    it('commits its own container into its own namespace, paused, and tells the catalogue', async () => {
      const image = await t.sut.commit(ownId, { repository: 'team-a/snap', tag: '1' }, teamA);
      expect(image.repoTags).toEqual([{ repository: 'team-a/snap', tag: '1' }]);
      expect(t.engine.callsTo('containers.commit')).toEqual([
        { method: 'containers.commit', args: [ownId, expect.objectContaining({ repository: 'team-a/snap', tag: '1', pause: true })] },
      ]);
      expect(t.catalog.invalidations).toBe(1);
    });
  });

  describe('run', () => {
    it('queues a run of a local image, labelled with the caller\'s team and owner', async () => {
      t.engine.addImage('busybox:1');
      await t.sut.run({ image: 'busybox:1', cmd: ['true'] }, teamA);
      const job = t.jobs.only();
      expect(job.type).toBe(JobType.RUN);
      expect(job.data as RunJobData).toMatchObject({ image: 'busybox:1', team: 'team-a', owner: 'builder-a' });
    });

    it('refuses an image that is not here (no implicit pull), queueing nothing', async () => {
      expect(await refusalOf(t.sut.run({ image: 'team-a/absent:1' }, teamA))).toBe(ErrorCode.IMAGE_NOT_FOUND);
      expect(t.jobs.enqueued).toEqual([]);
    });

    it('refuses a malformed image reference before the engine is called', async () => {
      expect(await refusalOf(t.sut.run({ image: 'team-a/app:bad tag!' }, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(t.engine.calls).toEqual([]);
    });
  });

  describe('remove', () => {
    it("answers another team's container as CONTAINER_NOT_FOUND, removing nothing; an admin may remove it", async () => {
      expect(await refusalOf(t.sut.remove(ownId, true, teamB))).toBe(ErrorCode.CONTAINER_NOT_FOUND);
      expect(t.engine.callsTo('containers.remove')).toEqual([]);
      await t.sut.remove(ownId, false, admin);
      expect(t.engine.callsTo('containers.remove')).toHaveLength(1);
    });

    it("hides another installation's container even from an admin", async () => {
      const foreign = t.engine.addContainer({ id: 'b'.repeat(64), labels: { [RUN_LABELS.deployment]: 'elsewhere' } }).id;
      expect(await refusalOf(t.sut.remove(foreign, true, admin))).toBe(ErrorCode.CONTAINER_NOT_FOUND);
      expect(t.engine.callsTo('containers.remove')).toEqual([]);
    });

    it('refuses a running container unless forced', async () => {
      const running = t.engine.addContainer({ id: 'c'.repeat(64), running: true, state: 'running', labels: { [RUN_LABELS.team]: 'team-a', [RUN_LABELS.deployment]: t.config.keyPrefix } }).id;
      expect(await refusalOf(t.sut.remove(running, false, teamA))).toBe(ErrorCode.CONTAINER_RUNNING);
      expect(t.engine.callsTo('containers.remove')).toEqual([]);
    });
  });

  describe('on two engines', () => {
    let two: TestService<ContainersService>;
    const labels = () => ({ [RUN_LABELS.team]: 'team-a', [RUN_LABELS.deployment]: two.config.keyPrefix });
    const on = (name: string) => (two.engines[name] as TestService<ContainersService>['engines'][string]).engine;
    beforeEach(async () => {
      two = await newTestService(ContainersService, {}, { engines: ['a', 'b'] });
    });
    afterEach(() => two.close());

    it('runs on the engine that has the image, and refuses an image on both with AMBIGUOUS_ENGINE unless one is named', async () => {
      on('b').addImage('team-a/only-b:1');
      await two.sut.run({ image: 'team-a/only-b:1' }, teamA);
      expect(two.jobs.only().options.engine).toBe('b');
      on('a').addImage('busybox:1');
      on('b').addImage('busybox:1');
      const error = await two.sut.run({ image: 'busybox:1' }, teamA).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.AMBIGUOUS_ENGINE, details: { engines: ['a', 'b'] } });
      await two.sut.run({ image: 'busybox:1', engine: 'a' }, teamA);
      expect(two.jobs.enqueued.map((job) => job.options.engine)).toEqual(['b', 'a']);
      expect(two.jobs.enqueued[1]?.data).not.toHaveProperty('engine');
    });

    it('refuses a run naming an engine without the image, or an engine that does not exist', async () => {
      on('b').addImage('team-a/only-b:1');
      expect(await refusalOf(two.sut.run({ image: 'team-a/only-b:1', engine: 'a' }, teamA))).toBe(ErrorCode.IMAGE_NOT_FOUND);
      expect(await refusalOf(two.sut.run({ image: 'team-a/only-b:1', engine: 'nope' }, teamA))).toBe(ErrorCode.UNKNOWN_ENGINE);
      expect(two.jobs.enqueued).toEqual([]);
    });

    it("lists every engine's containers, each with its engine, or one engine's when named", async () => {
      on('a').addContainer({ id: '1'.repeat(64), created: '2026-01-01T00:00:01Z', labels: labels() });
      on('b').addContainer({ id: '2'.repeat(64), created: '2026-01-01T00:00:02Z', labels: labels() });
      expect((await two.sut.list(true, teamA)).map((c) => [c.id[0], c.engine])).toEqual([['2', 'b'], ['1', 'a']]);
      expect((await two.sut.list(true, teamA, 'a')).map((c) => c.engine)).toEqual(['a']);
    });

    it('commits a container on the engine that holds it, and invalidates that engine\'s catalogue', async () => {
      const id = on('b').addContainer({ id: '3'.repeat(64), labels: labels() }).id;
      const image = await two.sut.commit(id, { repository: 'team-a/snap', tag: '1' }, teamA);
      expect(image.repoTags).toEqual([{ repository: 'team-a/snap', tag: '1' }]);
      expect(on('a').callsTo('containers.commit')).toEqual([]);
      expect(on('b').callsTo('containers.commit')).toHaveLength(1);
      expect(two.engines['b']?.catalog.invalidations).toBe(1);
    });

    it('answers an id prefix that matches containers on both engines with AMBIGUOUS_ENGINE, and finds it on the engine named', async () => {
      on('a').addContainer({ id: `4a${'0'.repeat(62)}`, labels: labels() });
      on('b').addContainer({ id: `4b${'0'.repeat(62)}`, labels: labels() });
      expect(await refusalOf(two.sut.remove('4', true, teamA))).toBe(ErrorCode.AMBIGUOUS_ENGINE);
      expect((await two.sut.get('4', teamA, 'b')).engine).toBe('b');
      await two.sut.remove('4', true, teamA, 'a');
      expect(on('a').callsTo('containers.remove')).toHaveLength(1);
      expect(on('b').callsTo('containers.remove')).toEqual([]);
    });

    it("answers a container on neither engine, or another team's, as CONTAINER_NOT_FOUND", async () => {
      on('b').addContainer({ id: '5'.repeat(64), labels: { ...labels(), [RUN_LABELS.team]: 'team-b' } });
      expect(await refusalOf(two.sut.get('5', teamA))).toBe(ErrorCode.CONTAINER_NOT_FOUND);
      expect(await refusalOf(two.sut.get('6', teamA))).toBe(ErrorCode.CONTAINER_NOT_FOUND);
    });
  });
});
