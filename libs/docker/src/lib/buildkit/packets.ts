import { PacketType } from './proto';
import type { TarEntry } from './tar-index';

/**
 * fsutil.types.Packet written by hand: DATA packets carry the context's bytes,
 * so each is laid out once with its payload read straight into place, and a
 * Stat's nanosecond mtime needs 64 bits that a JS number cannot hold.
 */

/** Go's os.FileMode bits, which fsutil's Stat.mode carries (not the unix st_mode). */
const GO_MODE = {
  dir: 1 << 31,
  symlink: 1 << 27,
  device: 1 << 26,
  namedPipe: 1 << 25,
  setuid: 1 << 23,
  setgid: 1 << 22,
  charDevice: 1 << 21,
  sticky: 1 << 20,
} as const;

export function goFileMode(entry: Pick<TarEntry, 'kind' | 'mode'>): number {
  let mode = entry.mode & 0o777;
  if (entry.mode & 0o4000) mode |= GO_MODE.setuid;
  if (entry.mode & 0o2000) mode |= GO_MODE.setgid;
  if (entry.mode & 0o1000) mode |= GO_MODE.sticky;
  switch (entry.kind) {
    case 'dir':
      mode |= GO_MODE.dir;
      break;
    case 'symlink':
      mode |= GO_MODE.symlink;
      break;
    case 'block':
      mode |= GO_MODE.device;
      break;
    case 'char':
      mode |= GO_MODE.device | GO_MODE.charDevice;
      break;
    case 'fifo':
      mode |= GO_MODE.namedPipe;
      break;
    case 'file':
      break;
  }
  return mode >>> 0;
}

function varint(value: bigint, out: number[]): void {
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

function varintField(field: number, value: bigint | number, out: number[]): void {
  if (!value) return;
  out.push(field << 3);
  varint(BigInt(value), out);
}

function bytesField(field: number, value: Buffer, out: number[]): void {
  if (!value.length) return;
  out.push((field << 3) | 2);
  varint(BigInt(value.length), out);
  for (const byte of value) out.push(byte);
}

export interface StatFields {
  path: string;
  entry: TarEntry;
}

export function statPacket(stat: StatFields): Buffer {
  const body: number[] = [];
  bytesField(1, Buffer.from(stat.path), body);
  varintField(2, goFileMode(stat.entry), body);
  varintField(3, stat.entry.uid, body);
  varintField(4, stat.entry.gid, body);
  varintField(5, stat.entry.size, body);
  varintField(6, stat.entry.mtimeNs, body);
  bytesField(7, Buffer.from(stat.entry.linkname), body);
  varintField(8, stat.entry.devmajor, body);
  varintField(9, stat.entry.devminor, body);
  const packet: number[] = [];
  // type STAT is 0, proto3's default: not written. The stat is written even when empty.
  packet.push((2 << 3) | 2);
  varint(BigInt(body.length), packet);
  return Buffer.from([...packet, ...body]);
}

/** The STAT packet without a stat: the end of the walk. */
export const END_OF_STATS = Buffer.alloc(0);

export function finPacket(): Buffer {
  return Buffer.from([1 << 3, PacketType.FIN]);
}

export function errPacket(message: string): Buffer {
  const out: number[] = [];
  varintField(1, PacketType.ERR, out);
  bytesField(4, Buffer.from(message), out);
  return Buffer.from(out);
}

/** Bytes kept free before a DATA payload for its header (type, id and length as varints: at most 14). */
export const DATA_HEADROOM = 16;

/**
 * A DATA packet around the `length` payload bytes already at
 * `buffer[DATA_HEADROOM..]`: the header is written just before them, so the
 * payload is read from the tar once and never copied here. Length 0 (and
 * no buffer needed beyond the headroom) is the end of the file.
 */
export function dataPacket(buffer: Buffer, id: number, length: number): Buffer {
  const head: number[] = [];
  varintField(1, PacketType.DATA, head);
  varintField(3, id, head);
  if (length) {
    head.push((4 << 3) | 2);
    varint(BigInt(length), head);
  }
  const start = DATA_HEADROOM - head.length;
  buffer.set(head, start);
  return buffer.subarray(start, DATA_HEADROOM + length);
}
