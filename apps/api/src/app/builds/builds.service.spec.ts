import { ErrorCode } from '@drydock/core';
import { Builder } from '@drydock/docker';
import { JobType, type BuildJobData } from '@drydock/jobs';
import { PassThrough, Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { refusalOf } from '../testing/refusal';
import { newTestService, teamA, viewerA, type TestService } from '../testing/test-service';
import { BuildsService, type BuildOptions } from './builds.service';
import { ContextOrder } from './builds.dto';
import { ContextStore } from './context-store';

async function tarOf(files: Record<string, string>): Promise<Readable> {
  const archive = pack();
  for (const [name, text] of Object.entries(files)) archive.entry({ name }, text);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('BuildsService', () => {
  let t: TestService<BuildsService>;
  beforeEach(async () => {
    t = await newTestService(BuildsService);
  });
  afterEach(() => t.close());

  const built = () => t.jobs.only().data as BuildJobData;

  describe('an inline Dockerfile', () => {
    it('spools the Dockerfile and files, then queues the build with the tags as the engine names them', async () => {
      await t.sut.fromBody({ dockerfile: 'FROM team-a/base\nCOPY a.txt /\n', files: { 'a.txt': b64('hi') }, tags: ['team-a/app'], pull: true }, teamA);
      expect(t.jobs.only().type).toBe(JobType.BUILD);
      expect(built()).toMatchObject({ tags: ['team-a/app:latest'], dockerfile: 'Dockerfile', baseRegistries: ['docker.io'], team: 'team-a', localImages: [] });
      expect(t.spooled()).toEqual(expect.arrayContaining([`${built().contextId}.tar`]));
    });

    it('shows the names of build args in the record, never their values', async () => {
      await t.sut.fromBody({ dockerfile: 'FROM scratch\nARG TOKEN\n', tags: ['team-a/app'], buildArgs: { TOKEN: 's3cret' } }, teamA);
      expect(t.jobs.only().options.request).toMatchObject({ buildArgs: ['TOKEN'] });
      expect(JSON.stringify(t.jobs.only().options.request)).not.toContain('s3cret');
    });

    it("refuses a FROM in another team's namespace that would be pulled, leaving nothing spooled", async () => {
      expect(await refusalOf(t.sut.fromBody({ dockerfile: 'FROM team-b/base\n', tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(t.sut.fromBody({ dockerfile: 'FROM team-b/base\n', tags: ['team-a/app'], pull: true }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.jobs.enqueued).toEqual([]);
      expect(t.spooled()).toEqual([]);
    });

    it("takes another team's image already here as a FROM without pull, and names it for the worker to check again", async () => {
      t.engine.addImage('team-b/base:latest');
      await t.sut.fromBody({ dockerfile: 'FROM team-b/base\n', tags: ['team-a/app'] }, teamA);
      expect(built().localImages).toEqual(['team-b/base:latest']);
      expect(await refusalOf(t.sut.fromBody({ dockerfile: 'FROM team-b/base\n', tags: ['team-a/app'], pull: true }, teamA))).toBe(ErrorCode.FORBIDDEN);
    });

    it('refuses inline files past 4 MiB with PAYLOAD_TOO_LARGE', async () => {
      const big = b64('x'.repeat(3 * 1024 * 1024));
      const body = { dockerfile: 'FROM scratch\n', files: { a: big, b: big }, tags: ['team-a/app'] };
      expect(await refusalOf(t.sut.fromBody(body, teamA))).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
      expect(t.spooled()).toEqual([]);
    });

    it('refuses a file path outside the context and content that is not base64', async () => {
      expect(await refusalOf(t.sut.fromBody({ dockerfile: 'FROM scratch\n', files: { '../x': '' }, tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.VALIDATION_FAILED);
      expect(await refusalOf(t.sut.fromBody({ dockerfile: 'FROM scratch\n', files: { x: '!!' }, tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.VALIDATION_FAILED);
      expect(t.spooled()).toEqual([]);
    });

    it('refuses a body with neither a Dockerfile nor an upload id, and one with both', async () => {
      expect(await refusalOf(() => t.sut.fromBody({ tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.VALIDATION_FAILED);
      const both = { dockerfile: 'FROM scratch\n', contextUploadId: '00000000-0000-0000-0000-000000000000', tags: ['team-a/app'] };
      expect(await refusalOf(() => t.sut.fromBody(both, teamA))).toBe(ErrorCode.VALIDATION_FAILED);
    });
  });

  describe('every build', () => {
    it("refuses a tag in another team's namespace, or a viewer's build, before the context is read or the engine called", async () => {
      expect(await refusalOf(() => t.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app', 'team-b/app'] }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(await refusalOf(() => t.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'] }, viewerA))).toBe(ErrorCode.FORBIDDEN);
      const body = await tarOf({ Dockerfile: 'FROM scratch\n' });
      expect(await refusalOf(() => t.sut.fromTar(body, { tags: ['team-b/app'] }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(body.readableEnded).toBe(false);
      expect(t.engine.calls).toEqual([]);
      expect(t.spooled()).toEqual([]);
    });

    it('refuses a digest as a tag', async () => {
      const tags = [`team-a/app@sha256:${'a'.repeat(64)}`];
      expect(await refusalOf(() => t.sut.fromBody({ dockerfile: 'FROM scratch\n', tags }, teamA))).toBe(ErrorCode.INVALID_REFERENCE);
    });
  });

  describe('a tar context', () => {
    it('spools the tar and queues the build of its Dockerfile', async () => {
      await t.sut.fromTar(await tarOf({ 'build/Dockerfile.app': 'FROM scratch\n' }), { tags: ['team-a/app:1'], dockerfilePath: 'build/Dockerfile.app' }, teamA);
      expect(built()).toMatchObject({ tags: ['team-a/app:1'], dockerfile: 'build/Dockerfile.app' });
      expect(t.spooled()).toContain(`${built().contextId}.tar`);
    });

    it("refuses a context whose FROM is another team's and removes what was spooled", async () => {
      expect(await refusalOf(t.sut.fromTar(await tarOf({ Dockerfile: 'FROM team-b/base\n' }), { tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.jobs.enqueued).toEqual([]);
      expect(t.spooled()).toEqual([]);
    });

    it('queues a BuildKit build sent sorted once its Dockerfile is in, before the rest of the upload, and answers that job', async () => {
      const whole = (await tarOf({ Dockerfile: 'FROM scratch\n', 'z.bin': 'z'.repeat(4096) })).read() as Buffer;
      const body = new PassThrough();
      const answer = t.sut.fromTar(body, { tags: ['team-a/app:1'], contextOrder: ContextOrder.SORTED }, teamA);
      body.write(whole.subarray(0, 1536));
      for (const deadline = Date.now() + 5_000; t.jobs.enqueued.length === 0 && Date.now() < deadline; ) await new Promise((next) => setTimeout(next, 5));
      expect(t.jobs.enqueued).toHaveLength(1);
      body.end(whole.subarray(1536));
      // The answer is that job: no second one is queued once the upload is whole.
      expect((await answer).request['contextId']).toBe(built().contextId);
      expect(t.jobs.enqueued).toHaveLength(1);
    });

    it('waits for the whole upload on the legacy builder, with an Idempotency-Key, or unsorted', async () => {
      const receive = jest.spyOn(ContextStore.prototype, 'receive');
      const asked: Array<[BuildOptions, string | undefined]> = [
        [{ tags: ['team-a/app:1'], contextOrder: ContextOrder.SORTED, builder: Builder.LEGACY }, undefined],
        [{ tags: ['team-a/app:2'], contextOrder: ContextOrder.SORTED }, 'retry-key-1'],
        [{ tags: ['team-a/app:3'] }, undefined],
      ];
      for (const [options, key] of asked) await t.sut.fromTar(await tarOf({ Dockerfile: 'FROM scratch\n' }), options, teamA, key);
      expect(receive.mock.calls.map((call) => call[3]?.onDockerfile)).toEqual([undefined, undefined, undefined]);
      expect(receive.mock.calls.map((call) => call[3]?.sorted)).toEqual([true, true, false]);
      receive.mockRestore();
    });
  });

  describe('the builder', () => {
    it('builds on BuildKit by default, and queues the secret ids and cache sources, never a value', async () => {
      t.buildSecrets.stored.add('team-a/npm-token');
      const options = { tags: ['team-a/app:1'], secrets: ['npm-token'], cacheFrom: ['team-a/app:cache'] };
      await t.sut.fromTar(await tarOf({ Dockerfile: 'FROM scratch\n' }), options, teamA);
      expect(built()).toMatchObject({ builder: Builder.BUILDKIT, secrets: ['npm-token'], cacheFrom: ['docker.io/team-a/app:cache'] });
    });

    it('builds on the legacy builder when asked, or when the engine offers nothing else', async () => {
      await t.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'], builder: Builder.LEGACY }, teamA);
      expect(built().builder).toBe(Builder.LEGACY);
      const other = await newTestService(BuildsService);
      other.engine.builders = [Builder.LEGACY];
      await other.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'] }, teamA);
      expect((other.jobs.only().data as BuildJobData).builder).toBe(Builder.LEGACY);
      await other.close();
    });

    it('refuses BuildKit asked of an engine without it, bad or unknown secret ids and foreign cache sources, before the tar is read', async () => {
      const other = await newTestService(BuildsService);
      other.engine.builders = [Builder.LEGACY];
      const refusals: [TestService<BuildsService>, BuildOptions, ErrorCode][] = [
        [other, { tags: ['team-a/app'], builder: Builder.BUILDKIT }, ErrorCode.VALIDATION_FAILED],
        [t, { tags: ['team-a/app'], secrets: ['../etc/passwd'] }, ErrorCode.VALIDATION_FAILED],
        [t, { tags: ['team-a/app'], secrets: ['npm', 'npm'] }, ErrorCode.VALIDATION_FAILED],
        [t, { tags: ['team-a/app'], cacheFrom: ['team-b/app:cache'] }, ErrorCode.FORBIDDEN],
        // team-b has one by that name; team-a has none.
        [t, { tags: ['team-a/app'], secrets: ['deploy-key'] }, ErrorCode.SECRET_NOT_FOUND],
      ];
      t.buildSecrets.stored.add('team-b/deploy-key');
      for (const [service, options, code] of refusals) {
        const body = await tarOf({ Dockerfile: 'FROM scratch\n' });
        expect(await refusalOf(() => service.sut.fromTar(body, options, teamA))).toBe(code);
        expect(body.readableEnded).toBe(false);
        expect(service.spooled()).toEqual([]);
        expect(service.jobs.enqueued).toEqual([]);
      }
      await other.close();
    });
  });

  describe('an uploaded context', () => {
    it('builds from an id uploaded by the same team', async () => {
      const upload = await t.sut.upload(await tarOf({ Dockerfile: 'FROM scratch\n' }), teamA);
      await t.sut.fromBody({ contextUploadId: upload.id, tags: ['team-a/app'] }, teamA);
      expect(built().contextId).toBe(upload.id);
    });

    it("answers another team's upload id as UPLOAD_NOT_FOUND", async () => {
      const upload = await t.sut.upload(await tarOf({ Dockerfile: 'FROM scratch\n' }), teamA);
      const teamB = { ...teamA, name: 'builder-b', team: 'team-b', namespaces: ['team-b/**'] };
      expect(await refusalOf(t.sut.fromBody({ contextUploadId: upload.id, tags: ['team-b/app'] }, teamB))).toBe(ErrorCode.UPLOAD_NOT_FOUND);
      expect(t.jobs.enqueued).toEqual([]);
    });

    it("refuses an uploaded context whose FROM is another team's, and removes it", async () => {
      const upload = await t.sut.upload(await tarOf({ Dockerfile: 'FROM team-b/base\n' }), teamA);
      expect(await refusalOf(t.sut.fromBody({ contextUploadId: upload.id, tags: ['team-a/app'] }, teamA))).toBe(ErrorCode.FORBIDDEN);
      expect(t.spooled()).toEqual([]);
    });
  });

  describe('on two engines', () => {
    let two: TestService<BuildsService>;
    beforeEach(async () => {
      two = await newTestService(BuildsService, {}, { engines: ['a', 'b'] });
    });
    afterEach(() => two.close());
    const fakes = (name: string) => two.engines[name] as TestService<BuildsService>['engines'][string];

    it('builds on the engine named, and on the least busy one otherwise', async () => {
      await two.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'], engine: 'b' }, teamA);
      fakes('b').load.waiting = 2;
      await two.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'] }, teamA);
      expect(two.jobs.enqueued.map((job) => job.options.engine)).toEqual(['b', 'a']);
    });

    it("checks a foreign FROM against the chosen engine's images and builders", async () => {
      fakes('b').engine.addImage('busybox:1');
      fakes('a').engine.builders = [Builder.LEGACY];
      const dockerfile = 'FROM busybox:1\n';
      expect(await refusalOf(two.sut.fromBody({ dockerfile, tags: ['team-a/app'], engine: 'a' }, teamA))).toBe(ErrorCode.FORBIDDEN);
      await two.sut.fromBody({ dockerfile, tags: ['team-a/app'], engine: 'b' }, teamA);
      expect(two.jobs.only()).toMatchObject({ data: { localImages: ['busybox:1'], builder: Builder.BUILDKIT }, options: { engine: 'b' } });
      const onA = await two.sut.fromBody({ dockerfile: 'FROM scratch\n', tags: ['team-a/app'], engine: 'a' }, teamA);
      expect(onA.request).toMatchObject({ builder: Builder.LEGACY });
    });

    it('refuses an engine that is not configured with UNKNOWN_ENGINE before anything is spooled', async () => {
      const options: BuildOptions = { tags: ['team-a/app'], engine: 'nope' };
      expect(await refusalOf(two.sut.fromTar(await tarOf({ Dockerfile: 'FROM scratch\n' }), options, teamA))).toBe(ErrorCode.UNKNOWN_ENGINE);
      expect(two.spooled()).toEqual([]);
      expect(two.jobs.enqueued).toEqual([]);
    });
  });
});
