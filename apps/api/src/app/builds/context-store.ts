import { DrydockError, ErrorCode } from '@drydock/docker';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, pack } from 'tar-stream';

export interface StoredContext {
  id: string;
  size: number;
  /** The Dockerfile's text, read from the context on the way in. */
  dockerfile: string;
}

const UPLOAD_ID = /^[0-9a-f-]{36}$/;
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/**
 * Build contexts, spooled to disk as they arrive: never held in memory whole,
 * counted against a cap (413 past it), and read once on the way in to find the
 * Dockerfile so it can be checked before a job is queued. The worker streams
 * the file to the engine. The directory must be shared by API and worker
 * processes (a volume in docker-compose).
 */
export class ContextStore {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  path(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new DrydockError(ErrorCode.UPLOAD_NOT_FOUND, `no build context ${id}`);
    return join(this.dir, `${id}.tar`);
  }

  async open(id: string): Promise<Readable> {
    const path = this.path(id);
    try {
      await fs.access(path);
    } catch {
      throw new DrydockError(ErrorCode.UPLOAD_NOT_FOUND, `no build context ${id}`);
    }
    return createReadStream(path);
  }

  async dockerfileOf(id: string, dockerfilePath: string): Promise<string> {
    const found = await findFile(await this.open(id), dockerfilePath);
    if (found === null) throw noDockerfile(dockerfilePath);
    return found;
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.path(id), { force: true });
  }

  /**
   * Removes contexts older than `maxAgeMs`: an upload never built, or a job
   * cancelled before it started, would otherwise stay on disk for ever.
   * Answers how many went.
   */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!/^[0-9a-f-]{36}\.tar$/.test(name)) continue;
      const path = join(this.dir, name);
      const stat = await fs.stat(path).catch(() => null);
      if (stat && now - stat.mtimeMs > maxAgeMs) {
        await fs.rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /**
   * Spools a tar (or gzipped tar) stream; rejects past the cap, or without the
   * Dockerfile when one is named, leaving nothing behind.
   */
  async receive(body: Readable, dockerfilePath: string | null): Promise<StoredContext> {
    await fs.mkdir(this.dir, { recursive: true });
    const id = randomUUID();
    const path = this.path(id);
    let size = 0;
    const maxBytes = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new DrydockError(ErrorCode.PAYLOAD_TOO_LARGE, `build context over the ${maxBytes}-byte limit`));
        } else callback(null, chunk);
      },
    });
    const inspect = new PassThrough();
    counter.pipe(inspect);
    // With no Dockerfile to find, the read still proves the body is a tar archive.
    const dockerfile = findFile(inspect, dockerfilePath ?? '\0');
    try {
      await Promise.all([pipeline(body, counter, createWriteStream(path)), dockerfile]);
      const text = await dockerfile;
      if (text === null && dockerfilePath !== null) throw noDockerfile(dockerfilePath);
      return { id, size, dockerfile: text ?? '' };
    } catch (error) {
      body.resume();
      inspect.destroy();
      await fs.rm(path, { force: true });
      throw error;
    }
  }

  /** Packs an inline Dockerfile and small files into a stored context. */
  async fromFiles(dockerfile: string, dockerfilePath: string, files: Record<string, Buffer>): Promise<StoredContext> {
    const tar = pack();
    tar.entry({ name: dockerfilePath, mode: 0o644 }, dockerfile);
    for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o644 }, content);
    tar.finalize();
    return this.receive(tar as unknown as Readable, dockerfilePath);
  }
}

function noDockerfile(path: string): DrydockError {
  return new DrydockError(ErrorCode.DOCKERFILE_INVALID, `the build context has no ${path}`);
}

/** Contexts arrive plain or gzipped, as the engine accepts both: sniff the magic bytes. */
async function* decompressed(source: Readable): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  if (first.done) return;
  async function* all(): AsyncGenerator<Buffer> {
    yield first.value;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip());
  else yield* all();
}

/** Reads one file out of a tar stream, draining the rest; null when it is not there. */
function findFile(source: Readable, wanted: string): Promise<string | null> {
  const target = posix.normalize(wanted).replace(/^(\.\/)+/, '');
  return new Promise((resolve, reject) => {
    const tar = extract();
    let found: string | null = null;
    tar.on('entry', (header, stream, next) => {
      const name = posix.normalize(header.name).replace(/^(\.\/)+/, '');
      if (name === target && header.type === 'file' && found === null) {
        const chunks: Buffer[] = [];
        let bytes = 0;
        stream.on('data', (data: unknown) => {
          const chunk = data as Buffer;
          bytes += chunk.length;
          if (bytes <= MAX_DOCKERFILE_BYTES) chunks.push(chunk);
        });
        stream.on('end', () => {
          found = Buffer.concat(chunks).toString('utf8');
          next();
        });
      } else {
        stream.on('end', next);
        stream.resume();
      }
    });
    tar.on('finish', () => resolve(found));
    tar.on('error', (error: Error) =>
      reject(new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context is not a tar archive: ${error.message}`, { cause: error })),
    );
    const input = Readable.from(decompressed(source));
    input.on('error', (error) => tar.destroy(error));
    input.pipe(tar);
  });
}
