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
});
