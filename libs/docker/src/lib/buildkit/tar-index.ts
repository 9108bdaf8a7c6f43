import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * A plain tar file indexed in place, so BuildKit's file sync can be served
 * from it without unpacking: every entry's header, and where its bytes lie.
 * Only the headers are read (a 1 GiB file's data is skipped by its size).
 * The tree is what the engine's own extraction would leave: the last entry of
 * a path wins, a non-directory over a directory takes its subtree with it,
 * parents an archive leaves out are made as 0755 directories, and hard links
 * are copies of their target as it stood at that point of the archive.
 */

/** Past this the index costs more memory than it saves: the tar body path takes over. */
export const MAX_INDEXED_ENTRIES = 100_000;
const MAX_META_BYTES = 1024 * 1024;
const MAX_PATH_BYTES = 4096;
const BLOCK = 512;
const WINDOW = 64 * 1024;

export type EntryKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  kind: EntryKind;
  /** Permission bits with setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes of a file; 0 otherwise. */
  size: number;
  /** Nanoseconds since the epoch. */
  mtimeNs: bigint;
  /** A symlink's target. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Where a file's data starts in the tar. */
  offset: number;
}

export interface TarNode {
  name: string;
  entry: TarEntry;
  /** Directories only. */
  children?: Map<string, TarNode>;
}

/** The tree cannot be served as the engine would unpack it (gzip, a GNU sparse file, too many entries...): use the tar body. */
export class TarIndexUnsupported extends Error {}

function implicitDir(name: string): TarNode {
  return { name, entry: { kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeNs: 0n, linkname: '', devmajor: 0, devminor: 0, offset: 0 }, children: new Map() };
}

/** Reads 512-byte blocks through a window, so the headers of many small files cost one read. */
class Blocks {
  private window = Buffer.alloc(0);
  private start = 0;

  constructor(private readonly file: FileHandle) {}

  async read(position: number, length: number): Promise<Buffer> {
    if (position >= this.start && position + length <= this.start + this.window.length) {
      return this.window.subarray(position - this.start, position - this.start + length);
    }
    const buffer = Buffer.alloc(Math.max(length, WINDOW));
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, position);
    this.window = buffer.subarray(0, bytesRead);
    this.start = position;
    if (bytesRead < length) throw new TarIndexUnsupported('the tar ends inside an entry');
    return this.window.subarray(0, length);
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

function numeric(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if ((field[0] as number) & 0x80) {
    // GNU base-256, for values an octal field cannot hold.
    let value = BigInt((field[0] as number) & 0x7f);
    for (let i = 1; i < field.length; i++) value = (value << 8n) | BigInt(field[i] as number);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarIndexUnsupported('a tar number is out of range');
    return Number(value);
  }
  const digits = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]*$/.test(digits)) throw new TarIndexUnsupported('a tar header holds a malformed number');
  return digits ? parseInt(digits, 8) : 0;
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum === numeric(block, 148, 8);
}

/** `path`, `linkpath`, `size`, `mtime`, `uid`, `gid` of a PAX extended header. */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > data.length) throw new TarIndexUnsupported('a PAX header is malformed');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function paxTime(value: string): bigint {
  const match = /^(-?\d+)(?:\.(\d{1,9})\d*)?$/.exec(value);
  if (!match) throw new TarIndexUnsupported('a PAX mtime is malformed');
  const seconds = BigInt(match[1] as string);
  const fraction = BigInt((match[2] ?? '').padEnd(9, '0'));
  return seconds * 1_000_000_000n + (seconds < 0n ? -fraction : fraction);
}

/** A tar entry's path as the engine's extraction resolves it: `./a`, `/a`, `b/../a` and `a/` all land on `a`. */
export function cleanPath(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

function kindOf(flag: string, name: string): EntryKind | 'link' | null {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      // Old archives mark directories with a trailing slash only (Go's archive/tar reads them so).
      return name.endsWith('/') ? 'dir' : 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    default:
      return null;
  }
}

class Tree {
  readonly root = implicitDir('');
  entries = 0;

  constructor(private readonly maxEntries: number) {}

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
    for (const part of parts.slice(0, -1)) {
      let next = parent.children?.get(part);
      if (!next) {
        next = implicitDir(part);
        parent.children?.set(part, next);
        this.count();
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
      return;
    }
    if (!existing) this.count();
    parent.children?.set(name, { name, entry, ...(entry.kind === 'dir' ? { children: existing?.children ?? new Map<string, TarNode>() } : {}) });
    if (existing?.children) this.entries -= countBelow(existing);
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
    return await indexOpen(file, (await file.stat()).size, maxEntries);
  } finally {
    await file.close();
  }
}

async function indexOpen(file: FileHandle, fileSize: number, maxEntries: number): Promise<TarNode> {
  const blocks = new Blocks(file);
  const tree = new Tree(maxEntries);
  let position = 0;
  let pax = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  while (position + BLOCK <= fileSize) {
    const header = await blocks.read(position, BLOCK);
    if (header.every((byte) => byte === 0)) return tree.root;
    if (!checksumOk(header)) throw new TarIndexUnsupported('not a plain tar archive (gzipped, or a bad header checksum)');
    const flag = String.fromCharCode(header[156] as number);
    let size = numeric(header, 124, 12);
    if (pax.has('size')) size = Number(pax.get('size'));
    if (!Number.isSafeInteger(size) || size < 0) throw new TarIndexUnsupported('an entry size is out of range');
    const dataAt = position + BLOCK;
    position = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (position > fileSize) throw new TarIndexUnsupported('the tar ends inside an entry');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw new TarIndexUnsupported('a tar extension header is too large');
      const data = Buffer.from(await blocks.read(dataAt, size));
      if (flag === 'x') pax = parsePax(data);
      else if (flag === 'L') longName = text(data, 0, data.length);
      else if (flag === 'K') longLink = text(data, 0, data.length);
      // A global header ('g') sets nothing the engine keeps for a context.
      continue;
    }
    const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
    const prefix = ustar ? text(header, 345, 155) : '';
    const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    const linkname = pax.get('linkpath') ?? longLink ?? text(header, 157, 100);
    const kind = kindOf(flag, rawName);
    const mtimeNs = pax.has('mtime') ? paxTime(pax.get('mtime') as string) : BigInt(numeric(header, 136, 12)) * 1_000_000_000n;
    const uid = pax.has('uid') ? Number(pax.get('uid')) : numeric(header, 108, 8);
    const gid = pax.has('gid') ? Number(pax.get('gid')) : numeric(header, 116, 8);
    pax = new Map();
    longName = null;
    longLink = null;
    if (kind === null) throw new TarIndexUnsupported(`the tar holds an entry of type '${flag}'`);
    if (Buffer.byteLength(rawName) > MAX_PATH_BYTES || Buffer.byteLength(linkname) > MAX_PATH_BYTES) throw new TarIndexUnsupported('a path is too long');
    const entryPath = cleanPath(rawName);
    // The context's root itself: fsutil never sends it.
    if (!entryPath) continue;
    if (entryPath === '..' || entryPath.startsWith('../')) throw new TarIndexUnsupported('an entry lies outside the context');
    if (kind === 'link') {
      const target = tree.lookup(cleanPath(linkname));
      if (target?.entry.kind !== 'file') throw new TarIndexUnsupported(`the hard link ${entryPath} has no file to point to`);
      tree.put(entryPath, { ...target.entry });
      continue;
    }
    tree.put(entryPath, {
      kind,
      mode: numeric(header, 100, 8) & 0o7777,
      uid,
      gid,
      size: kind === 'file' ? size : 0,
      mtimeNs,
      linkname: kind === 'symlink' ? linkname : '',
      devmajor: kind === 'char' || kind === 'block' ? numeric(header, 329, 8) : 0,
      devminor: kind === 'char' || kind === 'block' ? numeric(header, 337, 8) : 0,
      offset: kind === 'file' ? dataAt : 0,
    });
  }
  // Go's reader, and so the engine, accepts an archive that ends without its zero blocks.
  return tree.root;
}
