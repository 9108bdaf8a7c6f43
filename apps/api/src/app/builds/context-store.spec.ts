import { ErrorCode } from '@drydock/docker';
import { mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { ContextStore } from './context-store';

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
    const stored = await store.receive(Readable.from([tar]), 'Dockerfile');
    expect(stored.dockerfile).toBe('FROM busybox\n');
    expect(stored.size).toBe(tar.length);
    expect(await store.dockerfileOf(stored.id, 'Dockerfile')).toBe('FROM busybox\n');
  });

  it('finds a Dockerfile named with -f, in a gzipped context', async () => {
    const tar = gzipSync(await tarOf({ './docker/other.Dockerfile': 'FROM scratch\n' }));
    const stored = await store.receive(Readable.from([tar]), 'docker/other.Dockerfile');
    expect(stored.dockerfile).toBe('FROM scratch\n');
  });

  it('refuses a context over the cap with PAYLOAD_TOO_LARGE and leaves no file behind', async () => {
    const tar = await tarOf({ Dockerfile: 'FROM busybox', big: Buffer.alloc(128 * 1024) });
    await expect(store.receive(Readable.from([tar]), 'Dockerfile')).rejects.toMatchObject({ code: ErrorCode.PAYLOAD_TOO_LARGE });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a context without the Dockerfile, and one that is not a tar', async () => {
    const tar = await tarOf({ 'README': 'x' });
    await expect(store.receive(Readable.from([tar]), 'Dockerfile')).rejects.toMatchObject({ code: ErrorCode.DOCKERFILE_INVALID });
    await expect(store.receive(Readable.from([Buffer.from('not a tar at all, just words'.repeat(40))]), 'Dockerfile')).rejects.toMatchObject({
      code: expect.stringMatching(/VALIDATION_FAILED|DOCKERFILE_INVALID/),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('packs an inline Dockerfile with small files', async () => {
    const stored = await store.fromFiles('FROM busybox\nCOPY a /a', 'Dockerfile', { a: Buffer.from('hello') });
    expect(stored.dockerfile).toContain('COPY a /a');
  });

  it('refuses ids that are not upload ids (no path traversal)', async () => {
    await expect(store.open('../../etc/passwd')).rejects.toMatchObject({ code: ErrorCode.UPLOAD_NOT_FOUND });
  });

  it('sweeps contexts older than the age it is given, and only those', async () => {
    const old = await store.fromFiles('FROM busybox', 'Dockerfile', {});
    const fresh = await store.fromFiles('FROM busybox', 'Dockerfile', {});
    const past = new Date(Date.now() - 3 * 3600 * 1000);
    utimesSync(store.path(old.id), past, past);
    expect(await store.sweep(3600 * 1000)).toBe(1);
    await expect(store.open(old.id)).rejects.toMatchObject({ code: ErrorCode.UPLOAD_NOT_FOUND });
    await expect(store.open(fresh.id)).resolves.toBeDefined();
  });
});
