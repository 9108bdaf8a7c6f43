import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBytes } from '../../testing/tar-bytes';
import { GrowingContext, type ContextState } from './context-source';
import type { Walked } from './tar-walk';
import { walkOrder } from './tar-walk';

const dir = mkdtempSync(join(tmpdir(), 'dd-growing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A spool file the test writes piece by piece, with the upload's state under its control. */
function upload() {
  const path = join(dir, `${Math.random().toString(16).slice(2)}.tar`);
  writeFileSync(path, '');
  let state: ContextState = { state: 'receiving' };
  const controller = new AbortController();
  return {
    path,
    controller,
    append: (bytes: Buffer) => appendFileSync(path, bytes),
    set: (next: ContextState) => (state = next),
    open: () => GrowingContext.open(path, { state: async () => state }, controller.signal),
  };
}

async function take(walk: AsyncIterable<Walked> | null, count: number): Promise<string[]> {
  const out: string[] = [];
  if (!walk) return out;
  for await (const { path } of walk) {
    out.push(path);
    if (out.length === count) break;
  }
  return out;
}

describe('walkOrder', () => {
  it("orders paths as fsutil walks: a directory's entries by their bytes, a directory right before what it holds", () => {
    const paths = ['a.b', 'a/z', 'B', 'a', 'a/b/c', '.dockerignore', 'Dockerfile'];
    expect([...paths].sort(walkOrder)).toEqual(['.dockerignore', 'B', 'Dockerfile', 'a', 'a/b/c', 'a/z', 'a.b']);
  });
});

describe('GrowingContext', () => {
  it('walks entries as their headers land, making the parents the archive leaves out, and serves bytes once they are there', async () => {
    const spool = upload();
    const bytes = await tarBytes([[{ name: 'Dockerfile' }, 'FROM scratch\n'], [{ name: 'assets/one.bin' }, 'x'.repeat(2000)], [{ name: 'z' }, 'zz']]);
    // The first header, its data, and the second header: not yet the second file's bytes.
    spool.append(bytes.subarray(0, 1536));
    const context = await spool.open();
    const walk = context.walk('context', {});
    const iterator = walk?.[Symbol.asyncIterator]();
    expect((await iterator?.next())?.value.path).toBe('Dockerfile');
    expect((await iterator?.next())?.value.path).toBe('assets');
    const file = (await iterator?.next())?.value as Walked;
    expect(file.path).toBe('assets/one.bin');
    const buffer = Buffer.alloc(2000);
    const reading = context.read(buffer, 0, 2000, file.node.entry.offset);
    spool.append(bytes.subarray(1536));
    await expect(reading).resolves.toBe(2000);
    expect(buffer.toString()).toBe('x'.repeat(2000));
    spool.set({ state: 'complete' });
    expect((await iterator?.next())?.value.path).toBe('z');
    expect((await iterator?.next())?.done).toBe(true);
    await expect(context.settled()).resolves.toBeUndefined();
    await context.close();
  });

  it('ends a walk for plain paths once the upload has gone past them, without waiting for the rest', async () => {
    const spool = upload();
    const bytes = await tarBytes([[{ name: 'Dockerfile' }, 'FROM scratch\n'], [{ name: 'app.sh' }, 'echo'], [{ name: 'zz' }, 'z']]);
    spool.append(bytes.subarray(0, 2048));
    const context = await spool.open();
    // BuildKit follows `dockerfile` too, a fallback it reads only when there is no `Dockerfile`: it sorts after app.sh.
    await expect(take(context.walk('dockerfile', { followPaths: ['Dockerfile', 'Dockerfile.dockerignore', 'dockerfile'] }), 10)).resolves.toEqual(['Dockerfile']);
    await expect(take(context.walk('context', { includePatterns: ['.dockerignore'] }), 10)).resolves.toEqual([]);
    await context.close();
  });

  it('fails a walk on an entry out of walk order, and on the upload failing', async () => {
    const spool = upload();
    spool.append(await tarBytes([[{ name: 'b' }, 'b'], [{ name: 'a' }, 'a']]));
    const context = await spool.open();
    await expect(take(context.walk('context', {}), 10)).rejects.toThrow(/not in walk order: a comes after b/);
    await context.close();

    const refused = upload();
    refused.append((await tarBytes([[{ name: 'a' }, 'a'], [{ name: 'b' }, 'b']])).subarray(0, 1024));
    const growing = await refused.open();
    const walking = take(growing.walk('context', {}), 10);
    refused.set({ state: 'failed', error: new Error('over the cap') });
    await expect(walking).rejects.toThrow('over the cap');
    await expect(growing.settled()).rejects.toThrow('over the cap');
    await growing.close();
  });

  it('stops following when the build is stopped', async () => {
    const spool = upload();
    const context = await spool.open();
    const walking = take(context.walk('context', {}), 10);
    spool.controller.abort(new Error('cancelled'));
    await expect(walking).rejects.toThrow('cancelled');
    await context.close();
  });
});
