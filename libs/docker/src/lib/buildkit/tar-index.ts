import { open } from 'node:fs/promises';
import { tarHeaders, TarIndexUnsupported, wholeFile, type TarEntry } from './tar-headers';

export { cleanPath, TarIndexUnsupported, type EntryKind, type TarEntry } from './tar-headers';

/**
 * A plain tar file indexed in place, so BuildKit's file sync can be served
 * from it without unpacking. The tree is what the engine's own extraction
 * would leave: the last entry of a path wins, a non-directory over a
 * directory takes its subtree with it, parents an archive leaves out are made
 * as 0755 directories, and hard links are copies of their target as it stood
 * at that point of the archive.
 */

/** Past this the index costs more memory than it saves: the tar body path takes over. */
export const MAX_INDEXED_ENTRIES = 100_000;

export interface TarNode {
  name: string;
  entry: TarEntry;
  /** Directories only. */
  children?: Map<string, TarNode>;
}

function implicitDir(name: string): TarNode {
  return { name, entry: { kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 0n, linkname: '', devmajor: 0, devminor: 0, offset: 0 }, children: new Map() };
}

export class Tree {
  readonly root = implicitDir('');
  entries = 0;

  /** `onNode` hears of each node as it is made or replaced, parents made for it first. */
  constructor(
    private readonly maxEntries: number,
    private readonly onNode: (path: string, node: TarNode) => void = () => undefined,
  ) {}

  lookup(path: string): TarNode | undefined {
    let node: TarNode | undefined = this.root;
    for (const part of path.split('/')) {
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  put(path: string, entry: TarEntry): void {
    const parts = path.split('/');
    let parent = this.root;
    let at = '';
    for (const part of parts.slice(0, -1)) {
      at = at ? `${at}/${part}` : part;
      let next = parent.children?.get(part);
      if (!next) {
        next = implicitDir(part);
        parent.children?.set(part, next);
        this.count();
        this.onNode(at, next);
      } else if (!next.children) {
        // The engine would fail making a directory where a file or a link is; let it say so.
        throw new TarIndexUnsupported(`an entry lies under the non-directory ${part}`);
      }
      parent = next;
    }
    const name = parts.at(-1) as string;
    const existing = parent.children?.get(name);
    if (existing?.children && entry.kind === 'dir') {
      existing.entry = entry;
      this.onNode(path, existing);
      return;
    }
    if (!existing) this.count();
    const node: TarNode = { name, entry, ...(entry.kind === 'dir' ? { children: existing?.children ?? new Map<string, TarNode>() } : {}) };
    parent.children?.set(name, node);
    if (existing?.children) this.entries -= countBelow(existing);
    this.onNode(path, node);
  }

  /** A hard link is a copy of its target as it stands at that point of the archive. */
  putLink(path: string, target: string): void {
    const node = this.lookup(target);
    if (node?.entry.kind !== 'file') throw new TarIndexUnsupported(`the hard link ${path} has no file to point to`);
    this.put(path, { ...node.entry });
  }

  private count(): void {
    if (++this.entries > this.maxEntries) throw new TarIndexUnsupported(`the context has over ${this.maxEntries} entries`);
  }
}

function countBelow(node: TarNode): number {
  let total = 0;
  for (const child of node.children?.values() ?? []) total += 1 + countBelow(child);
  return total;
}

/**
 * Indexes the plain tar at `path`. Throws TarIndexUnsupported for what only
 * the engine's own extraction should judge (gzip, a malformed or truncated
 * archive, sparse files, too many entries); the caller then sends the tar.
 */
export async function indexTar(path: string, maxEntries = MAX_INDEXED_ENTRIES): Promise<TarNode> {
  const file = await open(path, 'r');
  try {
    const tree = new Tree(maxEntries);
    for await (const header of tarHeaders(await wholeFile(file))) {
      if (header.hardlink !== undefined) tree.putLink(header.path, header.hardlink);
      else tree.put(header.path, header.entry);
    }
    return tree.root;
  } finally {
    await file.close();
  }
}
