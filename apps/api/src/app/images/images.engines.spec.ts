import { DrydockError, ErrorCode } from '@drydock/core';
import { refusalOf } from '../testing/refusal';
import { admin, newTestService, teamA, type FakeMember, type TestService } from '../testing/test-service';
import { ImagesService } from './images.service';

describe('ImagesService over two engines', () => {
  let t: TestService<ImagesService>;
  let a: FakeMember;
  let b: FakeMember;
  beforeEach(async () => {
    t = await newTestService(ImagesService, {}, { engines: ['a', 'b'] });
    a = t.engines['a'] as FakeMember;
    b = t.engines['b'] as FakeMember;
  });
  afterEach(() => t.close());

  describe('list', () => {
    it('merges both engines, one entry per image id naming every engine that holds it', async () => {
      const both = a.engine.addImage('team-a/base:1');
      b.engine.addImage('team-a/base:1');
      const onlyB = b.engine.addImage('team-a/b-only:1');
      const list = await t.sut.list();
      expect(list.map((image) => [image.id, image.engines])).toEqual([
        [both.id, ['a', 'b']],
        [onlyB.id, ['b']],
      ]);
    });

    it("lists one engine's images with engine=", async () => {
      a.engine.addImage('team-a/a-only:1');
      const onlyB = b.engine.addImage('team-a/b-only:1');
      expect((await t.sut.list({ engine: 'b' })).map((image) => [image.id, image.engines])).toEqual([[onlyB.id, ['b']]]);
    });

    it('refuses an engine that is not configured with UNKNOWN_ENGINE', async () => {
      expect(await refusalOf(t.sut.list({ engine: 'c' }))).toBe(ErrorCode.UNKNOWN_ENGINE);
    });

    it('leaves out an engine that does not answer, and fails only when none does', async () => {
      a.engine.addImage('team-a/a-only:1');
      b.catalog.isLive = false;
      b.catalog.all = () => Promise.reject(new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, 'engine b is away'));
      expect((await t.sut.list()).map((image) => image.engines)).toEqual([['a']]);
      expect(await refusalOf(t.sut.list({ engine: 'b' }))).toBe(ErrorCode.ENGINE_UNAVAILABLE);
      a.catalog.isLive = false;
      a.catalog.all = b.catalog.all;
      expect(await refusalOf(t.sut.list())).toBe(ErrorCode.ENGINE_UNAVAILABLE);
    });

    it('serialises the merged list once while neither engine changes', async () => {
      a.engine.addImage('team-a/base:1');
      const snapshot = [...(await a.catalog.all())];
      a.catalog.all = async () => snapshot;
      const bSnapshot = await b.catalog.all();
      b.catalog.all = async () => bSnapshot;
      expect(await t.sut.listJson()).toBe(await t.sut.listJson());
    });
  });

  describe('inspect', () => {
    it('answers once for an id both engines hold, naming both', async () => {
      a.engine.addImage('team-a/base:1');
      b.engine.addImage('team-a/base:1');
      expect((await t.sut.inspect('team-a/base:1')).engines).toEqual(['a', 'b']);
      expect((await t.sut.inspect('team-a/base:1', 'b')).engines).toEqual(['b']);
    });

    it('refuses a name that is a different image on each engine with AMBIGUOUS_ENGINE naming both', async () => {
      a.engine.addImage('team-a/app:1');
      b.engine.addImage('team-a/other:1', 'team-a/app:1');
      const error = await t.sut.inspect('team-a/app:1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DrydockError);
      expect((error as DrydockError).code).toBe(ErrorCode.AMBIGUOUS_ENGINE);
      expect((error as DrydockError).details).toEqual({ engines: ['a', 'b'] });
      expect((await t.sut.history('team-a/app:1', teamA, 'a')).length).toBe(1);
    });

    it('says IMAGE_NOT_FOUND when no engine holds it', async () => {
      expect(await refusalOf(t.sut.inspect('team-a/none:1'))).toBe(ErrorCode.IMAGE_NOT_FOUND);
    });
  });

  describe('tag and remove', () => {
    it('tag goes to the engine that holds the source, and invalidates that catalogue only', async () => {
      const image = b.engine.addImage('team-a/app:1');
      const tagged = await t.sut.tag('team-a/app:1', 'team-a/app', '2', false, teamA);
      expect(tagged.engines).toEqual(['b']);
      expect(b.engine.callsTo('images.tag')).toEqual([{ method: 'images.tag', args: [image.id, 'team-a/app', '2'] }]);
      expect(a.engine.callsTo('images.tag')).toEqual([]);
      expect([a.catalog.invalidations, b.catalog.invalidations]).toEqual([0, 1]);
    });

    it('refuses to tag or remove an image both engines hold without engine, changing nothing', async () => {
      a.engine.addImage('team-a/app:1');
      b.engine.addImage('team-a/app:1');
      expect(await refusalOf(t.sut.tag('team-a/app:1', 'team-a/app', '2', false, teamA))).toBe(ErrorCode.AMBIGUOUS_ENGINE);
      expect(await refusalOf(t.sut.remove('team-a/app:1', {}, teamA))).toBe(ErrorCode.AMBIGUOUS_ENGINE);
      for (const member of [a, b]) {
        expect(member.engine.callsTo('images.tag')).toEqual([]);
        expect(member.engine.callsTo('images.remove')).toEqual([]);
      }
    });

    it('removes from the engine named, leaving the other its copy', async () => {
      a.engine.addImage('team-a/app:1');
      b.engine.addImage('team-a/app:1');
      await t.sut.remove('team-a/app:1', {}, teamA, 'b');
      expect((await t.sut.list()).map((image) => image.engines)).toEqual([['a']]);
      expect([a.catalog.invalidations, b.catalog.invalidations]).toEqual([0, 1]);
    });
  });

  describe('prune', () => {
    it('prunes every healthy engine and sums what they reclaimed', async () => {
      a.engine.images.prune = async () => ({ deleted: ['sha256:1'], spaceReclaimed: 10 });
      b.engine.images.prune = async () => ({ deleted: ['sha256:2'], spaceReclaimed: 5 });
      expect(await t.sut.prune({})).toEqual({ deleted: ['sha256:1', 'sha256:2'], spaceReclaimed: 15 });
      b.catalog.isLive = false;
      expect(await t.sut.prune({})).toEqual({ deleted: ['sha256:1'], spaceReclaimed: 10 });
      expect(await t.sut.prune({ engine: 'b' })).toEqual({ deleted: ['sha256:2'], spaceReclaimed: 5 });
    });
  });

  it('an admin removes an unnamed image by id from the one engine holding it', async () => {
    const dangling = b.engine.addImage();
    await t.sut.remove(dangling.id, {}, admin);
    expect(b.engine.callsTo('images.remove')).toHaveLength(1);
  });
});
