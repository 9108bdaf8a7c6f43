import { ErrorCode } from '@drydock/core';
import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { ContextStore, type ContextOwner } from './context-store';

const A: ContextOwner = { team: 'team-a', owner: 'builder-a' };
const B: ContextOwner = { team: 'team-b', owner: 'builder-b' };

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('ContextStore', () => {
  let dir: string;
  let store: ContextStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctx-'));
    store = new ContextStore(dir, 64 * 1024);
  });

  it('spools a tar context and reads its Dockerfile on the way in', async () => {
    const tar = await tarOf({ 'app.rb': 'puts 1', Dockerfile: 'FROM busybox\n' });
    const stored = await store.receive(Readable.from([tar]), 'Dockerfile', A);
    expect(stored.dockerfile).toBe('FROM busybox\n');
    expect(stored.size).toBe(tar.length);
    expect(await store.dockerfileOf(stored.id, 'Dockerfile', 'team-a')).toBe('FROM busybox\n');
  });

  it('finds a Dockerfile named with -f, in a gzipped context', async () => {
    const tar = gzipSync(await tarOf({ './docker/other.Dockerfile': 'FROM scratch\n' }));
    const stored = await store.receive(Readable.from([tar]), 'docker/other.Dockerfile', A);
    expect(stored.dockerfile).toBe('FROM scratch\n');
  });

  it('refuses a context over the cap with PAYLOAD_TOO_LARGE and leaves no file behind', async () => {
    const tar = await tarOf({ Dockerfile: 'FROM busybox', big: Buffer.alloc(128 * 1024) });
    await expect(store.receive(Readable.from([tar]), 'Dockerfile', A)).rejects.toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a context without the Dockerfile, and one that is not a tar', async () => {
    const tar = await tarOf({ 'README': 'x' });
    await expect(store.receive(Readable.from([tar]), 'Dockerfile', A)).rejects.toMatchObject({ code: ErrorCode.DOCKERFILE_INVALID });
    await expect(store.receive(Readable.from([Buffer.from('not a tar at all, just words'.repeat(40))]), 'Dockerfile', A)).rejects.toMatchObject({
      code: expect.stringMatching(/VALIDATION_FAILED|DOCKERFILE_INVALID/),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('packs an inline Dockerfile with small files', async () => {
    const stored = await store.fromFiles('FROM busybox\nCOPY a /a', 'Dockerfile', { a: Buffer.from('hello') }, A);
    expect(stored.dockerfile).toContain('COPY a /a');
  });

  it('refuses ids that are not upload ids (no path traversal)', async () => {
    await expect(store.open('../../etc/passwd')).rejects.toMatchObject({ code: ErrorCode.UPLOAD_NOT_FOUND });
  });

  it('sweeps contexts older than the age it is given, and only those', async () => {
    const old = await store.fromFiles('FROM busybox', 'Dockerfile', {}, A);
    const fresh = await store.fromFiles('FROM busybox', 'Dockerfile', {}, A);
    const past = new Date(Date.now() - 3 * 3600 * 1000);
    utimesSync(store.path(old.id), past, past);
    expect(await store.sweep(3600 * 1000)).toBe(1);
    await expect(store.open(old.id)).rejects.toMatchObject({ code: ErrorCode.UPLOAD_NOT_FOUND });
    await expect(store.open(fresh.id)).resolves.toBeDefined();
  });

  it('rejects a body that errors half-way, removes its file at once, and does not throw elsewhere', async () => {
    const tar = await tarOf({ Dockerfile: 'FROM busybox', big: Buffer.alloc(32 * 1024, 1) });
    const body = new PassThrough();
    const receiving = store.receive(body, 'Dockerfile', A);
    body.write(tar.subarray(0, 5000));
    setImmediate(() => body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    await expect(receiving).rejects.toThrow(/aborted/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a body destroyed without an error (a premature close) and leaves nothing', async () => {
    const tar = await tarOf({ Dockerfile: 'FROM busybox', big: Buffer.alloc(32 * 1024, 1) });
    const body = new PassThrough();
    const receiving = store.receive(body, 'Dockerfile', A);
    body.write(tar.subarray(0, 3000));
    setImmediate(() => body.destroy());
    await expect(receiving).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects a gzipped body cut short as not a tar, and leaves nothing', async () => {
    const gz = gzipSync(await tarOf({ Dockerfile: 'FROM busybox', big: Buffer.alloc(32 * 1024, 7) }));
    await expect(store.receive(Readable.from([gz.subarray(0, gz.length / 2)]), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops reading at the cap: the body is not consumed to its end, nor destroyed', async () => {
    let pulled = 0;
    const body = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(16 * 1024));
        if (pulled > 10_000) this.push(null);
      },
    });
    await expect(store.receive(body, 'Dockerfile', A)).rejects.toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE });
    expect(pulled).toBeLessThan(100);
    expect(body.destroyed).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a context holding the Dockerfile twice: the engine would build from the other one', async () => {
    const tar = pack();
    tar.entry({ name: 'Dockerfile' }, 'FROM busybox');
    tar.entry({ name: './Dockerfile' }, 'FROM localhost:5001/team-b/secret');
    tar.finalize();
    await expect(store.receive(Readable.from(tar as unknown as AsyncIterable<Buffer>), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.DOCKERFILE_INVALID,
      message: expect.stringMatching(/more than one entry named Dockerfile/),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a Dockerfile over 1 MiB rather than checking part of it', async () => {
    const big = new ContextStore(dir, 4 * 1024 ** 2);
    const text = `FROM busybox\n${'# padding\n'.repeat(110_000)}FROM localhost:5001/team-b/secret\n`;
    await expect(big.receive(Readable.from([await tarOf({ Dockerfile: text })]), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.DOCKERFILE_INVALID,
      message: expect.stringMatching(/over the 1048576-byte limit/),
    });
  });

  it('refuses a Dockerfile that is a symlink or a directory', async () => {
    const tar = pack();
    tar.entry({ name: 'Dockerfile', type: 'symlink', linkname: 'other' });
    tar.entry({ name: 'other' }, 'FROM busybox');
    tar.finalize();
    await expect(store.receive(Readable.from(tar as unknown as AsyncIterable<Buffer>), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.DOCKERFILE_INVALID,
    });
  });

  it('refuses an entry under a symlinked directory: `sub -> .` then `sub/Dockerfile` would overwrite the checked one', async () => {
    const tar = pack();
    tar.entry({ name: 'Dockerfile' }, 'FROM busybox');
    tar.entry({ name: 'sub', type: 'symlink', linkname: '.' });
    tar.entry({ name: 'sub/Dockerfile' }, 'FROM localhost:5001/team-b/secret');
    tar.finalize();
    await expect(store.receive(Readable.from(tar as unknown as AsyncIterable<Buffer>), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
      message: expect.stringMatching(/sub\/Dockerfile lies under the symbolic link sub/),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("answers another team's upload id as not found, and its own as found", async () => {
    const stored = await store.receive(Readable.from([await tarOf({ Dockerfile: 'FROM busybox' })]), null, A);
    await expect(store.dockerfileOf(stored.id, 'Dockerfile', 'team-b')).rejects.toMatchObject({ code: ErrorCode.UPLOAD_NOT_FOUND });
    await expect(store.dockerfileOf(stored.id, 'Dockerfile', 'team-a')).resolves.toBe('FROM busybox');
  });

  it("refuses a context past the team's quota, counting only that team's contexts", async () => {
    const quota = new ContextStore(dir, 64 * 1024, 40 * 1024);
    const context = await tarOf({ Dockerfile: 'FROM busybox', blob: Buffer.alloc(20 * 1024) });
    await quota.receive(Readable.from([context]), 'Dockerfile', A);
    await expect(quota.receive(Readable.from([context]), 'Dockerfile', A)).rejects.toMatchObject({
      code: ErrorCode.PAYLOAD_TOO_LARGE,
      message: expect.stringMatching(/quota/),
    });
    await expect(quota.receive(Readable.from([context]), 'Dockerfile', B)).resolves.toBeDefined();
    expect(await quota.usage('team-a')).toBe(context.length);
  });

  it('removes sidecars with their contexts, on remove and on sweep', async () => {
    const one = await store.fromFiles('FROM busybox', 'Dockerfile', {}, A);
    const two = await store.fromFiles('FROM busybox', 'Dockerfile', {}, A);
    await store.remove(one.id);
    expect(readdirSync(dir).sort()).toEqual([`${two.id}.json`, `${two.id}.tar`]);
    const past = new Date(Date.now() - 3 * 3600 * 1000);
    for (const name of readdirSync(dir)) utimesSync(join(dir, name), past, past);
    expect(await store.sweep(3600 * 1000)).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('a context sent in walk order (contextOrder=sorted)', () => {
    it('tells of its Dockerfile before the rest has come, and says the upload is receiving, then complete', async () => {
      const tar = await tarOf({ Dockerfile: 'FROM busybox\n', 'b.bin': Buffer.alloc(8 * 1024, 1) });
      const body = new PassThrough();
      let id = '';
      let told: () => void = () => undefined;
      const dockerfileIn = new Promise<void>((resolve) => (told = resolve));
      const receiving = store.receive(body, 'Dockerfile', A, {
        sorted: true,
        onDockerfile: async (early) => {
          id = early.id;
          expect(early.dockerfile).toBe('FROM busybox\n');
          told();
        },
      });
      // The Dockerfile's header and text, and b.bin's header: the rest is sent only once the hook was called.
      body.write(tar.subarray(0, 1536));
      await dockerfileIn;
      expect(await store.state(id)).toEqual({ state: 'receiving' });
      const heard = new Promise<void>((resolve) => store.watch(id, resolve));
      body.end(tar.subarray(1536));
      await receiving;
      await heard;
      expect(await store.state(id)).toEqual({ state: 'complete' });
    });

    it('refuses an entry out of walk order, and leaves the build it had started a refusal to fail with', async () => {
      const tar = await tarOf({ Dockerfile: 'FROM busybox\n', b: 'b', a: 'a' });
      let id = '';
      await expect(
        store.receive(Readable.from([tar]), 'Dockerfile', A, {
          sorted: true,
          onDockerfile: async (early) => {
            id = early.id;
          },
        }),
      ).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED, message: expect.stringMatching(/entry a comes after b/) });
      expect(await store.state(id)).toMatchObject({ state: 'failed', error: { code: ErrorCode.VALIDATION_FAILED } });
      await expect(store.open(id)).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
      expect(readdirSync(dir)).toEqual([`${id}.failed`]);
      await store.remove(id);
      expect(readdirSync(dir)).toEqual([]);
    });

    it('leaves nothing when the build could not be queued (a refused Dockerfile), and takes a sorted context without a hook', async () => {
      const tar = await tarOf({ Dockerfile: 'FROM busybox\n', z: 'z' });
      const refused = new Error('FROM names an image the team may not read');
      await expect(store.receive(Readable.from([tar]), 'Dockerfile', A, { sorted: true, onDockerfile: async () => Promise.reject(refused) })).rejects.toBe(refused);
      expect(readdirSync(dir)).toEqual([]);
      await expect(store.receive(Readable.from([tar]), 'Dockerfile', A, { sorted: true })).resolves.toMatchObject({ dockerfile: 'FROM busybox\n' });
      await expect(store.receive(Readable.from([await tarOf({ z: 'z', Dockerfile: 'FROM busybox' })]), 'Dockerfile', A, { sorted: true })).rejects.toMatchObject({
        code: ErrorCode.VALIDATION_FAILED,
      });
    });
  });
});
