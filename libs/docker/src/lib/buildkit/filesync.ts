import { status, type Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import type { ContextFiles } from './context-source';
import { DATA_HEADROOM, dataPacket, END_OF_STATS, errPacket, finPacket, statPacket } from './packets';
import { Packet, PacketType } from './proto';
import type { TarEntry } from './tar-index';
import type { Walked } from './tar-walk';

/**
 * `moby.filesync.v1.FileSync/DiffCopy` served from an indexed tar: the sender
 * half of fsutil's protocol (send.go). STAT packets for the walk, an empty
 * STAT at its end; each REQ (the receiver's request for a file, by the index
 * of its STAT) answered with DATA packets read from the tar at the file's
 * offset and an empty DATA; the receiver's FIN answered with FIN.
 */

/** Payload bytes per DATA packet: well under gRPC's 4 MiB message cap, large enough to keep the per-packet cost small. */
export const DATA_CHUNK = 256 * 1024;
/** Bytes written to the stream and not yet taken by the socket: the sender's memory bound. */
const MAX_IN_FLIGHT = 4 * 1024 * 1024;
/** Files sent at once, as fsutil's sender does. */
const SENDERS = 4;
/** What a receiver may send: REQ, FIN and ERR packets are small. */
const MAX_INCOMING_BYTES = 64 * 1024;

/**
 * A metadata key's values. BuildKit sends each pattern as its own header
 * field, and Node's http2 joins repeated fields with ", " before gRPC sees
 * them: split there. For paths to include, the joined whole is kept too, so
 * a name holding ", " is still sent (more paths only cost bytes).
 */
function strings(metadata: Metadata, key: string): string[] | undefined {
  const values = metadata.get(key).map(String);
  return values.length ? values.flatMap((value) => value.split(', ')) : undefined;
}

function paths(metadata: Metadata, key: string): string[] | undefined {
  const values = metadata.get(key).map(String);
  return values.length ? [...new Set(values.flatMap((value) => [...value.split(', '), value]))] : undefined;
}

class Sender {
  private readonly files = new Map<number, TarEntry>();
  private readonly requests: number[] = [];
  private waiting: Array<() => void> = [];
  private flushed: Array<() => void> = [];
  private inFlight = 0;
  /** DATA buffers back from the socket, reused: a fresh buffer per chunk cost more in GC than the copy itself. */
  private readonly buffers: Buffer[] = [];
  private stopped = false;

  constructor(
    private readonly call: ServerDuplexStream<Buffer, Buffer>,
    private readonly source: ContextFiles,
  ) {}

  async run(): Promise<void> {
    const metadata = this.call.metadata;
    const dirName = strings(metadata, 'dir-name')?.[0] ?? '';
    const entries = this.source.walk(dirName, {
      ...optional('includePatterns', paths(metadata, 'include-patterns')),
      ...optional('followPaths', paths(metadata, 'followpaths')),
      ...optional('excludeHeader', metadata.get('exclude-patterns').map(String)),
    });
    if (!entries) {
      this.call.destroy(Object.assign(new Error(`no access allowed to dir "${dirName}"`), { code: status.NOT_FOUND }));
      return;
    }
    this.call.on('data', (bytes: Buffer) => this.receive(bytes));
    this.call.on('end', () => this.stop());
    this.call.on('close', () => this.stop());
    this.call.on('error', () => this.stop());
    const serving = this.serve();
    try {
      await this.walk(entries);
    } catch (error) {
      // A pattern the walk cannot take, a context that cannot be streamed: BuildKit reports the sender's error as the build's.
      this.fail((error as Error).message);
    }
    await serving;
  }

  private async walk(entries: AsyncIterable<Walked>): Promise<void> {
    let id = 0;
    for await (const { path, node } of entries) {
      if (this.stopped) return;
      const entry = node.entry;
      if (entry.kind === 'file') this.files.set(id, entry);
      id++;
      // Owners as the tar gives them, as the engine keeps them unpacking a tar body (the docker CLI sends its files as 0:0).
      await this.send(statPacket({ path, entry }));
    }
    await this.send(END_OF_STATS);
  }

  private receive(bytes: Buffer): void {
    if (bytes.length > MAX_INCOMING_BYTES) return this.fail('a file sync packet over the size limit');
    let packet: { type: number; ID: number; data: Uint8Array };
    try {
      packet = Packet.toObject(Packet.decode(bytes), { defaults: true }) as typeof packet;
    } catch {
      return this.fail('a file sync packet that does not decode');
    }
    if (packet.type === PacketType.REQ) {
      this.requests.push(packet.ID);
      this.waiting.shift()?.();
    } else if (packet.type === PacketType.FIN) {
      this.send(finPacket())
        .then(() => this.call.end())
        .catch(() => undefined)
        .finally(() => this.stop());
    } else if (packet.type === PacketType.ERR) {
      this.stop();
      this.call.end();
    }
  }

  /** Answers the receiver's requests, SENDERS files at a time (as fsutil does): each file is written on its own pipe at the engine. */
  private async serve(): Promise<void> {
    await Promise.all(Array.from({ length: SENDERS }, () => this.sender()));
  }

  private async sender(): Promise<void> {
    while (!this.stopped) {
      const id = this.requests.shift();
      if (id === undefined) {
        await new Promise<void>((resolve) => this.waiting.push(resolve));
        continue;
      }
      const entry = this.files.get(id);
      if (!entry) return this.fail(`invalid file request ${id}`);
      this.files.delete(id);
      try {
        await this.sendFile(id, entry);
      } catch (error) {
        // The receiver waits for every file it asked for: it must be told, or the build hangs.
        return this.fail(`drydock could not read the build context: ${(error as Error).message}`);
      }
    }
  }

  /** A file's DATA packets, the next chunk read from the tar while the last one is being sent. */
  private async sendFile(id: number, entry: TarEntry): Promise<void> {
    const read = async (at: number): Promise<{ packet: Buffer; buffer: Buffer }> => {
      const length = Math.min(DATA_CHUNK, entry.size - at);
      const buffer = this.buffers.pop() ?? Buffer.allocUnsafe(DATA_HEADROOM + DATA_CHUNK);
      const bytesRead = await this.source.read(buffer, DATA_HEADROOM, length, entry.offset + at);
      if (bytesRead !== length) throw new Error('the spooled context changed under the build');
      return { packet: dataPacket(buffer, id, length), buffer };
    };
    let at = 0;
    let next = entry.size > 0 ? read(0) : null;
    while (next && !this.stopped) {
      const { packet, buffer } = await next;
      at += DATA_CHUNK;
      next = at < entry.size ? read(at) : null;
      // Settled by the next turn of the loop, or dropped when the stream stopped: never unhandled.
      next?.catch(() => undefined);
      await this.send(packet, buffer);
    }
    await this.send(dataPacket(Buffer.allocUnsafe(DATA_HEADROOM), id, 0));
  }

  /**
   * Writes a packet once fewer than MAX_IN_FLIGHT bytes are still on their way
   * to the socket. Not the stream's own `write() === false`: its high-water
   * mark is under one DATA packet, which would keep one packet in flight and
   * leave the engine's flow-control window mostly unused.
   */
  private async send(packet: Buffer, reusable?: Buffer): Promise<void> {
    while (!this.stopped && this.inFlight > 0 && this.inFlight + packet.length > MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => this.flushed.push(resolve));
    }
    if (this.stopped) return;
    this.inFlight += packet.length;
    this.call.write(packet, () => {
      this.inFlight -= packet.length;
      // gRPC has copied it into its frame by now: the buffer takes the next chunk.
      if (reusable && this.buffers.length < MAX_IN_FLIGHT / DATA_CHUNK) this.buffers.push(reusable);
      for (const resume of this.flushed.splice(0)) resume();
    });
  }

  private fail(message: string): void {
    if (this.stopped) return;
    this.call.write(errPacket(message));
    this.call.end();
    this.stop();
  }

  private stop(): void {
    this.stopped = true;
    for (const wake of [...this.waiting.splice(0), ...this.flushed.splice(0)]) wake();
  }
}

function optional<K extends string>(key: K, value: string[] | undefined): Partial<Record<K, string[]>> {
  return value?.length ? ({ [key]: value } as Record<K, string[]>) : {};
}

/** The DiffCopy handler: a failure ends this stream only, never the process. */
export function diffCopy(source: ContextFiles): (call: ServerDuplexStream<Buffer, Buffer>) => void {
  return (call) => {
    call.on('error', () => undefined);
    new Sender(call, source).run().catch(() => call.destroy());
  };
}
