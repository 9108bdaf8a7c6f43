import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * The headers of a plain tar, read in place: each entry's path, kind,
 * metadata and where its data lies, PAX and GNU long names applied. Only the
 * headers are read (a 1 GiB file's data is skipped by its size).
 */

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

/** The tree cannot be served as the engine would unpack it (gzip, a GNU sparse file, too many entries...): use the tar body. */
export class TarIndexUnsupported extends Error {}

/**
 * A tar's bytes: a file already whole, or one still being written (the
 * upload streaming in while its build runs), whose `reach` waits for them.
 */
export interface TarBytes {
  file: FileHandle;
  /** Resolves true once the first `end` bytes are there, false when the tar is whole and shorter. */
  reach(end: number): Promise<boolean>;
}

/** A file on disk that is already whole. */
export async function wholeFile(file: FileHandle): Promise<TarBytes> {
  const size = (await file.stat()).size;
  return { file, reach: async (end) => end <= size };
}

/** Reads 512-byte blocks through a window, so the headers of many small files cost one read. */
class Blocks {
  private window = Buffer.alloc(0);
  private start = 0;

  constructor(private readonly bytes: TarBytes) {}

  async read(position: number, length: number): Promise<Buffer> {
    if (position >= this.start && position + length <= this.start + this.window.length) {
      return this.window.subarray(position - this.start, position - this.start + length);
    }
    if (!(await this.bytes.reach(position + length))) throw new TarIndexUnsupported('the tar ends inside an entry');
    const buffer = Buffer.alloc(Math.max(length, WINDOW));
    const { bytesRead } = await this.bytes.file.read(buffer, 0, buffer.length, position);
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


/** An entry of the archive: its own metadata, or a hard link to an earlier path. */
export type TarHeader = { path: string; entry: TarEntry; hardlink?: undefined } | { path: string; hardlink: string; entry?: undefined };

/**
 * The archive's entries in order, the root itself left out. Throws
 * TarIndexUnsupported for what only the engine's own extraction should judge
 * (gzip, a malformed or truncated archive, sparse files).
 */
export async function* tarHeaders(bytes: TarBytes): AsyncGenerator<TarHeader> {
  const blocks = new Blocks(bytes);
  let position = 0;
  let pax = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  // Go's reader, and so the engine, accepts an archive that ends without its zero blocks.
  while (await bytes.reach(position + BLOCK)) {
    const header = await blocks.read(position, BLOCK);
    if (header.every((byte) => byte === 0)) return;
    if (!checksumOk(header)) throw new TarIndexUnsupported('not a plain tar archive (gzipped, or a bad header checksum)');
    const flag = String.fromCharCode(header[156] as number);
    let size = numeric(header, 124, 12);
    if (pax.has('size')) size = Number(pax.get('size'));
    if (!Number.isSafeInteger(size) || size < 0) throw new TarIndexUnsupported('an entry size is out of range');
    const dataAt = position + BLOCK;
    position = dataAt + Math.ceil(size / BLOCK) * BLOCK;
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
    const path = cleanPath(rawName);
    if (path === '..' || path.startsWith('../')) throw new TarIndexUnsupported('an entry lies outside the context');
    // The context's root itself: fsutil never sends it.
    if (path) {
      if (kind === 'link') {
        yield { path, hardlink: cleanPath(linkname) };
      } else {
        yield {
          path,
          entry: {
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
          },
        };
      }
    }
    // The data must all be there: a tar cut inside an entry is not one the engine would unpack.
    if (position > dataAt && !(await bytes.reach(position))) throw new TarIndexUnsupported('the tar ends inside an entry');
  }
}
