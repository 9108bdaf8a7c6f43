import { ErrorCode } from '@drydock/core';
import { refusalOf } from '../testing/refusal';
import { admin, newTestService, teamA, viewerA, type TestService } from '../testing/test-service';
import { ImagesService } from './images.service';

describe('ImagesService', () => {
  let t: TestService<ImagesService>;
  beforeEach(async () => {
    t = await newTestService(ImagesService);
  });
  afterEach(() => t.close());

  describe('tag', () => {
    it("refuses a tag into another team's namespace before the engine is called", async () => {
      t.engine.addImage('team-a/app:1');
      expect(await refusalOf(t.sut.tag('team-a/app:1', 'team-b/app', '1', false, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.tag('team-a/app:1', 'team-a/app', '2', false, viewerA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.engine.calls).toEqual([]);
    });

    it('tags into the caller\'s namespace, and tells the catalogue', async () => {
      const image = t.engine.addImage('team-a/app:1');
      await t.sut.tag('team-a/app:1', 'team-a/app', '2', false, teamA);
      expect(t.engine.callsTo('images.tag')).toEqual([{ method: 'images.tag', args: [image.id, 'team-a/app', '2'] }]);
      expect(t.catalog.invalidations).toBe(1);
    });

    it('refuses to move a tag off another image unless forced', async () => {
      t.engine.addImage('team-a/app:1');
      t.engine.addImage('team-a/app:2');
      expect(await refusalOf(t.sut.tag('team-a/app:1', 'team-a/app', '2', false, teamA))).toBe(ErrorCode.TAG_EXISTS);
      expect(t.engine.callsTo('images.tag')).toEqual([]);
      await t.sut.tag('team-a/app:1', 'team-a/app', '2', true, teamA);
      expect(t.engine.callsTo('images.tag')).toHaveLength(1);
    });

    it('refuses a digest target', async () => {
      t.engine.addImage('team-a/app:1');
      expect(await refusalOf(t.sut.tag('team-a/app:1', `team-a/app@sha256:${'a'.repeat(64)}`, undefined, false, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(t.engine.calls).toEqual([]);
    });
  });

  describe('remove (assertMayRemove)', () => {
    it("refuses a reference in another team's namespace before the engine is called", async () => {
      t.engine.addImage('team-b/app:1');
      expect(await refusalOf(t.sut.remove('team-b/app:1', {}, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.remove('team-a/app:1', {}, viewerA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.engine.calls).toEqual([]);
    });

    it('removes a reference in the caller\'s namespace', async () => {
      t.engine.addImage('team-a/app:1');
      await t.sut.remove('team-a/app:1', { force: true }, teamA);
      expect(t.engine.callsTo('images.remove')).toEqual([{ method: 'images.remove', args: ['team-a/app:1', { force: true }] }]);
      expect(t.catalog.invalidations).toBe(1);
    });

    it('refuses an id whose image also carries a name of another team', async () => {
      const shared = t.engine.addImage('team-a/app:1', 'team-b/app:1');
      expect(await refusalOf(t.sut.remove(shared.id, {}, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.engine.callsTo('images.remove')).toEqual([]);
    });

    it('removes by id (full or short) an image all of whose names are the caller\'s', async () => {
      const own = t.engine.addImage('team-a/app:1', 'team-a/app:2');
      await t.sut.remove(own.shortId, {}, teamA);
      expect(t.engine.callsTo('images.remove')).toEqual([{ method: 'images.remove', args: [own.shortId, {}] }]);
    });

    it('leaves an unnamed image to an admin', async () => {
      const dangling = t.engine.addImage();
      expect(await refusalOf(t.sut.remove(dangling.id, {}, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.engine.callsTo('images.remove')).toEqual([]);
      await t.sut.remove(dangling.id, {}, admin);
      expect(t.engine.callsTo('images.remove')).toHaveLength(1);
    });

    it("lets an admin remove another team's image by reference", async () => {
      t.engine.addImage('team-b/app:1');
      await t.sut.remove('team-b/app:1', {}, admin);
      expect(t.engine.callsTo('images.remove')).toHaveLength(1);
    });

    it('refuses a malformed id with INVALID_REFERENCE before the engine is called', async () => {
      expect(await refusalOf(t.sut.remove('sha256:zz', {}, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
      expect(t.engine.calls).toEqual([]);
    });
  });

  describe('history', () => {
    it("shows a viewer the layers of its team's image", async () => {
      t.engine.addImage('team-a/app:1');
      expect(await t.sut.history('team-a/app:1', viewerA)).toHaveLength(1);
    });
  });
});
