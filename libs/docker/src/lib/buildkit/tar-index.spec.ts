import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBytes, type TarFixtureEntry } from '../../testing/tar-bytes';
import { indexTar, MAX_INDEXED_ENTRIES, TarIndexUnsupported, type TarNode } from './tar-index';

const dir = mkdtempSync(join(tmpdir(), 'dd-tar-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
async function tarOf(entries: TarFixtureEntry[]): Promise<string> {
  const path = join(dir, `${count++}.tar`);
  writeFileSync(path, await tarBytes(entries));
  return path;
}

function node(root: TarNode, path: string): TarNode | undefined {
  let at: TarNode | undefined = root;
  for (const part of path.split('/')) at = at?.children?.get(part);
  return at;
}

describe('indexTar', () => {
  it('indexes each entry with its kind, mode, owners, mtime and where its data lies, without reading the data', async () => {
    const path = await tarOf([
      [{ name: './src/', type: 'directory', mode: 0o750, uid: 5, gid: 6, mtime: new Date(1_700_000_000_000) }],
      [{ name: './src/run.sh', mode: 0o4755, uid: 1000, gid: 1000, mtime: new Date(1_700_000_001_000) }, '#!/bin/sh\n'],
      [{ name: 'link', type: 'symlink', linkname: 'src/run.sh' }],
      [{ name: 'empty' }, ''],
    ]);
    const root = await indexTar(path);
    expect(node(root, 'src')?.entry).toMatchObject({ kind: 'dir', mode: 0o750, uid: 5, gid: 6, mtimeNs: 1_700_000_000_000_000_000n });
    const run = node(root, 'src/run.sh')?.entry;
    expect(run).toMatchObject({ kind: 'file', mode: 0o4755, uid: 1000, size: 10, mtimeNs: 1_700_000_001_000_000_000n });
    const bytes = Buffer.alloc(10);
    const { open } = await import('node:fs/promises');
    const file = await open(path, 'r');
    await file.read(bytes, 0, 10, run?.offset ?? 0);
    await file.close();
    expect(bytes.toString()).toBe('#!/bin/sh\n');
    expect(node(root, 'link')?.entry).toMatchObject({ kind: 'symlink', linkname: 'src/run.sh' });
    expect(node(root, 'empty')?.entry).toMatchObject({ kind: 'file', size: 0 });
  });

  it('makes the parents an archive leaves out as 0755 directories, as the engine unpacking it would', async () => {
    const root = await indexTar(await tarOf([[{ name: 'a/b/c.txt' }, 'x']]));
    expect(node(root, 'a')?.entry).toMatchObject({ kind: 'dir', mode: 0o755, uid: 0 });
    expect(node(root, 'a/b/c.txt')?.entry.kind).toBe('file');
  });

  it('keeps the last entry of a path, and a file over a directory takes its subtree with it', async () => {
    const root = await indexTar(
      await tarOf([
        [{ name: 'f' }, 'first'],
        [{ name: 'd/inner' }, 'gone'],
        [{ name: 'f' }, 'second!'],
        [{ name: 'd' }, 'now a file'],
      ]),
    );
    expect(node(root, 'f')?.entry.size).toBe(7);
    expect(node(root, 'd')?.entry.kind).toBe('file');
    expect(node(root, 'd')?.children).toBeUndefined();
  });

  it('serves a hard link as a copy of its target as it stood at that point of the archive', async () => {
    const root = await indexTar(
      await tarOf([
        [{ name: 'orig', mode: 0o700 }, 'content'],
        [{ name: 'copy', type: 'link', linkname: 'orig' }],
      ]),
    );
    expect(node(root, 'copy')?.entry).toEqual(node(root, 'orig')?.entry);
  });

  it('reads PAX long names and sub-second mtimes', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}`;
    const root = await indexTar(await tarOf([[{ name: long, pax: { mtime: '1700000000.5' } }, 'x']]));
    expect(node(root, long)?.entry.mtimeNs).toBe(1_700_000_000_500_000_000n);
  });

  it('refuses what only the engine should judge: a gzipped archive, an entry under a file, a hard link to nothing', async () => {
    const gz = join(dir, 'g.tar.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, ...Buffer.alloc(1022)]));
    await expect(indexTar(gz)).rejects.toBeInstanceOf(TarIndexUnsupported);
    await expect(indexTar(await tarOf([[{ name: 'f' }, 'x'], [{ name: 'f/g' }, 'y']]))).rejects.toBeInstanceOf(TarIndexUnsupported);
    await expect(indexTar(await tarOf([[{ name: 'l', type: 'link', linkname: 'missing' }]]))).rejects.toBeInstanceOf(TarIndexUnsupported);
  });

  it("lands a path climbing out of the context inside it, as the API's context check and the engine resolve it", async () => {
    const root = await indexTar(await tarOf([[{ name: '../up' }, 'x']]));
    expect(node(root, 'up')?.entry.kind).toBe('file');
  });

  it('refuses an archive cut inside an entry', async () => {
    const path = await tarOf([[{ name: 'big' }, 'x'.repeat(4000)]]);
    const { truncateSync } = await import('node:fs');
    truncateSync(path, 1024);
    await expect(indexTar(path)).rejects.toBeInstanceOf(TarIndexUnsupported);
  });

  it('gives up past its cap of entries rather than hold them all, counting the parents it makes', async () => {
    const path = await tarOf([[{ name: 'a/b/c' }, 'x'], [{ name: 'd' }, 'y']]);
    await expect(indexTar(path, 4)).resolves.toBeDefined();
    await expect(indexTar(path, 3)).rejects.toThrow(/over 3 entries/);
    expect(MAX_INDEXED_ENTRIES).toBe(100_000);
  });
});
