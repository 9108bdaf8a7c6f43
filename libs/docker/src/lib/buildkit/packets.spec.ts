import { DATA_HEADROOM, dataPacket, errPacket, finPacket, goFileMode, statPacket } from './packets';
import { Packet, PacketType } from './proto';
import type { TarEntry } from './tar-index';

const file: TarEntry = { kind: 'file', mode: 0o4755, uid: 1000, gid: 50, size: 12, mtimeNs: 1_700_000_000_123_456_789n, linkname: '', devmajor: 0, devminor: 0, offset: 512 };

describe('file sync packets', () => {
  it("carries Go's os.FileMode bits, which fsutil's Stat.mode is", () => {
    expect(goFileMode({ kind: 'dir', mode: 0o755 })).toBe((0x80000000 | 0o755) >>> 0);
    expect(goFileMode({ kind: 'symlink', mode: 0o777 })).toBe((1 << 27) | 0o777);
    expect(goFileMode({ kind: 'file', mode: 0o4755 })).toBe((1 << 23) | 0o755);
  });

  it('encodes a STAT that fsutil.types.Packet decodes, with a nanosecond mtime past 2^53', () => {
    const decoded = Packet.toObject(Packet.decode(statPacket({ path: 'src/run.sh', entry: file })), { longs: String, defaults: true });
    expect(decoded).toMatchObject({ type: PacketType.STAT, stat: { path: 'src/run.sh', mode: (1 << 23) | 0o755, uid: 1000, gid: 50, size: '12', modTime: '1700000000123456789' } });
  });

  it('lays out a DATA packet around its payload, and an empty one ends the file', () => {
    const buffer = Buffer.alloc(DATA_HEADROOM + 5);
    buffer.write('hello', DATA_HEADROOM);
    const packet = dataPacket(buffer, 300, 5);
    expect(Packet.toObject(Packet.decode(packet), { defaults: true })).toMatchObject({ type: PacketType.DATA, ID: 300 });
    expect(Buffer.from(Packet.decode(packet).toJSON()['data'] as string, 'base64').toString()).toBe('hello');
    expect(Packet.toObject(Packet.decode(dataPacket(Buffer.alloc(DATA_HEADROOM), 7, 0)), { defaults: true })).toMatchObject({ type: PacketType.DATA, ID: 7 });
  });

  it('encodes FIN and ERR', () => {
    expect(Packet.decode(finPacket()).toJSON()).toMatchObject({ type: PacketType.FIN });
    expect(Buffer.from(Packet.decode(errPacket('broken')).toJSON()['data'] as string, 'base64').toString()).toBe('broken');
  });
});
