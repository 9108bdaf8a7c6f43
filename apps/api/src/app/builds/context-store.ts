import { DrydockError, ErrorCode, isDrydockError } from '@drydock/core';
import type { ContextState } from '@drydock/docker';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { readTar, type ReadTarOptions } from './tar-scan';

export interface StoredContext {
  id: string;
  size: number;
  /** The Dockerfile's text, read from the context on the way in. */
  dockerfile: string;
}

/** Whose context it is: only its team may build from it, and its bytes count against the team's quota. */
export interface ContextOwner {
  team: string;
  owner: string;
}

/** The sidecar `<id>.json` beside each `<id>.tar`. */
interface Sidecar extends ContextOwner {
  size: number;
}

/** `<id>.failed`: an upload refused after its build had started, and why; the build fails with it. */
interface Refusal {
  code: ErrorCode;
  message: string;
}

export interface ReceiveOptions {
  /** The client sends its entries in BuildKit's walk order (`contextOrder=sorted`): refused when they are not. */
  sorted?: boolean;
  /**
   * Told the context as soon as its Dockerfile is in (a plain tar sent sorted
   * only), to queue its build while the rest arrives; a rejection refuses the
   * upload. Once it resolves, a refusal later on is left in `<id>.failed` for
   * the build to fail with.
   */
  onDockerfile?: (context: StoredContext) => Promise<void>;
}

/**
 * Bytes queued for the spool file while a write is under way, then written
 * together: at the default 16 KiB every socket read waited for its own write.
 */
const SPOOL_WRITE_BYTES = 1024 * 1024;

const UPLOAD_ID = /^[0-9a-f-]{36}$/;
const SPOOLED = /^([0-9a-f-]{36})\.(tar|json|failed)$/;

function notFound(id: string): DrydockError {
  return new DrydockError(ErrorCode.UPLOAD_NOT_FOUND, `no build context ${id}`);
}

/**
 * Build contexts, spooled to disk as they arrive: never held in memory whole,
 * counted against a per-context cap and a per-team quota (413 past either),
 * and read once on the way in to find the Dockerfile so it can be checked
 * before a job is queued. Each context has a sidecar naming its team: the
 * spool directory is already what API and worker share (a volume in
 * docker-compose), the sidecar lives and dies with its tar (one sweep, one
 * remove), and no Redis key can outlive or predate the file it describes.
 */
export class ContextStore {
  /** Bytes being received in this process, by team: counted before their sidecar exists. */
  private readonly receiving = new Map<string, number>();
  /** Word, by context id, that an upload received here ended or failed: a build following it here need not wait for its poll. */
  private readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly teamMaxBytes = Number.MAX_SAFE_INTEGER,
  ) {}

  path(id: string): string {
    if (!UPLOAD_ID.test(id)) throw notFound(id);
    return join(this.dir, `${id}.tar`);
  }

  private sidecarPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private refusalPath(id: string): string {
    return join(this.dir, `${id}.failed`);
  }

  /**
   * Where a context's upload stands, for a build that started while it was
   * still arriving: whole once its sidecar is written (after the last byte),
   * failed once refused (or gone), receiving while its file is still there.
   */
  async state(id: string): Promise<ContextState> {
    if (await exists(this.sidecarPath(id))) return { state: 'complete' };
    const refusal = await fs.readFile(this.refusalPath(id), 'utf8').catch(() => null);
    if (refusal !== null) {
      const { code, message } = JSON.parse(refusal) as Refusal;
      return { state: 'failed', error: new DrydockError(code, message) };
    }
    if (await exists(this.path(id))) return { state: 'receiving' };
    return { state: 'failed', error: notFound(id) };
  }

  /** The worker's read: the job was authorised when it was queued. */
  async open(id: string): Promise<Readable> {
    const path = this.path(id);
    if (!(await exists(path))) {
      // Refused after its build was queued: the build fails with the upload's own error.
      const state = await this.state(id);
      throw state.state === 'failed' ? state.error : notFound(id);
    }
    return createReadStream(path);
  }

  /** Calls `onChange` when the upload of `id`, received in this process, ends or fails; answers how to stop. */
  watch(id: string, onChange: () => void): () => void {
    this.changes.on(id, onChange);
    return () => this.changes.off(id, onChange);
  }

  /** The Dockerfile of a context uploaded before, for its own team only; any other team is told it does not exist. */
  async dockerfileOf(id: string, dockerfilePath: string, team: string): Promise<string> {
    const sidecar = await this.sidecar(id);
    if (!sidecar || sidecar.team !== team) throw notFound(id);
    const path = this.path(id);
    const gzip = await isGzip(path).catch(() => {
      throw notFound(id);
    });
    const found = await scan(createReadStream(path), gzip, dockerfilePath);
    if (found === null) throw noDockerfile(dockerfilePath);
    return found;
  }

  async remove(id: string, { keepRefusal = false } = {}): Promise<void> {
    await fs.rm(this.path(id), { force: true });
    await fs.rm(this.sidecarPath(id), { force: true });
    if (!keepRefusal) await fs.rm(this.refusalPath(id), { force: true });
  }

  /** Bytes a team has spooled: its stored contexts and those arriving in this process. */
  async usage(team: string): Promise<number> {
    let total = this.receiving.get(team) ?? 0;
    for (const name of await this.names()) {
      const match = SPOOLED.exec(name);
      if (match?.[2] !== 'json') continue;
      const sidecar = await this.sidecar(match[1] as string);
      if (sidecar?.team === team) total += sidecar.size;
    }
    return total;
  }

  /**
   * Removes contexts (and their sidecars) older than `maxAgeMs`: an upload
   * never built, or a job cancelled before it started, would otherwise stay
   * on disk for ever. Answers how many contexts went.
   */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await this.names()) {
      const match = SPOOLED.exec(name);
      if (!match) continue;
      const stat = await fs.stat(join(this.dir, name)).catch(() => null);
      if (stat && now - stat.mtimeMs > maxAgeMs) {
        await fs.rm(join(this.dir, name), { force: true });
        if (match[2] === 'tar') removed++;
      }
    }
    return removed;
  }

  /**
   * Spools a tar (or gzipped tar) stream; rejects past the cap or the team's
   * quota, on a body that is not a tar, on one cut short, or without the
   * Dockerfile when one is named, leaving nothing behind. `body` itself is
   * never destroyed: when it is a request, the caller must still be able to
   * answer on its connection.
   */
  async receive(body: Readable, dockerfilePath: string | null, owner: ContextOwner, options: ReceiveOptions = {}): Promise<StoredContext> {
    // An error before the pipeline starts (or after it gave up) stays in body.errored for the pipeline, never unhandled.
    body.on('error', () => undefined);
    await fs.mkdir(this.dir, { recursive: true });
    const id = randomUUID();
    const path = this.path(id);
    const budget = Math.min(this.maxBytes, this.teamMaxBytes - (await this.usage(owner.team)));
    const counter = new Counter(this.maxBytes, budget, this.teamMaxBytes, (bytes) => this.count(owner.team, bytes));
    const { sorted = false, onDockerfile } = options;
    let early: Promise<boolean> | undefined;
    const tee = new Tee(dockerfilePath, {
      sorted,
      ...(onDockerfile
        ? {
            onFound: (dockerfile: string) => {
              const told = onDockerfile({ id, size: 0, dockerfile });
              early = told.then(() => true);
              // The upload stops at once: nothing more of it is wanted.
              told.catch((error: Error) => tee.destroy(error));
            },
          }
        : {}),
    });
    try {
      await pipeline(body.iterator({ destroyOnReturn: false }), counter, tee, createWriteStream(path, { highWaterMark: SPOOL_WRITE_BYTES }));
      const text = await tee.result;
      if (text === null && dockerfilePath !== null) throw noDockerfile(dockerfilePath);
      await early;
      // The build may have ended already (a failed step) and taken its context with it: no sidecar for a file gone.
      if (early && !(await exists(path))) return { id, size: counter.size, dockerfile: text ?? '' };
      const sidecar: Sidecar = { ...owner, size: counter.size };
      await fs.writeFile(this.sidecarPath(id), JSON.stringify(sidecar));
      this.changes.emit(id);
      return { id, size: counter.size, dockerfile: text ?? '' };
    } catch (error) {
      const refused = asDomainError(error);
      // A build already queued on this upload fails with the upload's own error.
      const queued = early ? await early.catch(() => false) : false;
      if (queued && isDrydockError(refused)) {
        const refusal: Refusal = { code: refused.code, message: refused.message };
        await fs.writeFile(this.refusalPath(id), JSON.stringify(refusal));
      }
      // The refusal stays for the queued build to read; that build's end removes it.
      await this.remove(id, { keepRefusal: queued });
      this.changes.emit(id);
      throw refused;
    } finally {
      this.count(owner.team, -counter.size);
    }
  }

  /** Packs an inline Dockerfile and small files into a stored context. */
  async fromFiles(dockerfile: string, dockerfilePath: string, files: Record<string, Buffer>, owner: ContextOwner): Promise<StoredContext> {
    const tar = pack();
    tar.entry({ name: dockerfilePath, mode: 0o644 }, dockerfile);
    for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o644 }, content);
    tar.finalize();
    return this.receive(Readable.from(tar as unknown as AsyncIterable<Buffer>), dockerfilePath, owner);
  }

  private count(team: string, bytes: number): void {
    const total = (this.receiving.get(team) ?? 0) + bytes;
    if (total > 0) this.receiving.set(team, total);
    else this.receiving.delete(team);
  }

  private async names(): Promise<string[]> {
    return fs.readdir(this.dir).catch(() => []);
  }

  private async sidecar(id: string): Promise<Sidecar | null> {
    if (!UPLOAD_ID.test(id)) return null;
    try {
      const parsed = JSON.parse(await fs.readFile(this.sidecarPath(id), 'utf8')) as Partial<Sidecar>;
      return typeof parsed.team === 'string' && typeof parsed.size === 'number' ? (parsed as Sidecar) : null;
    } catch {
      return null;
    }
  }
}

/** Counts bytes on their way to disk and stops the stream at the first byte past the budget. */
class Counter extends Transform {
  size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly budget: number,
    private readonly teamMaxBytes: number,
    private readonly onBytes: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.onBytes(chunk.length);
    if (this.size <= this.budget) return callback(null, chunk);
    const detail =
      this.size > this.maxBytes
        ? `build context over the ${this.maxBytes}-byte limit`
        : `your team's build contexts would be over its ${this.teamMaxBytes}-byte quota (DRYDOCK_TEAM_CONTEXT_MAX_BYTES): build or wait for the ones stored to go`;
    callback(new DrydockError(ErrorCode.PAYLOAD_TOO_LARGE, detail));
  }
}

/**
 * Passes the context through to disk while a tar reader looks for the
 * Dockerfile in the same bytes: a chunk moves on only once the reader took it,
 * and a reader's failure (not a tar, a second Dockerfile) fails the spool.
 */
class Tee extends Transform {
  readonly result: Promise<string | null>;
  private readonly scan = new PassThrough();
  private head = Buffer.alloc(0);
  private started = false;
  private start!: (gzipped: boolean) => void;

  constructor(dockerfilePath: string | null, options: ReadTarOptions = {}) {
    super();
    // The scan's pipeline reports its errors; this only keeps one before it starts from being unhandled.
    this.scan.on('error', () => undefined);
    const gzipped = new Promise<boolean>((resolve) => (this.start = resolve));
    // With no Dockerfile to find, the read still proves the body is a tar archive.
    // A gzipped context cannot be served as it arrives: its build waits for the whole of it.
    this.result = gzipped.then((gzip) => scan(this.scan, gzip, dockerfilePath, gzip ? { sorted: options.sorted ?? false } : options));
    this.result.catch((error: Error) => this.destroy(error));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.started) {
      // Contexts arrive plain or gzipped, as the engine accepts both: sniff the magic bytes.
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 2) return callback();
      this.started = true;
      this.start(this.head[0] === 0x1f && this.head[1] === 0x8b);
      chunk = this.head;
    }
    this.forward(chunk, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      this.start(false);
      if (this.head.length) {
        this.scan.write(this.head);
        this.push(this.head);
      }
    }
    this.scan.end();
    this.result.then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.start(false);
    this.scan.destroy(error ?? undefined);
    callback(error);
  }

  private forward(chunk: Buffer, callback: TransformCallback): void {
    this.push(chunk);
    if (this.scan.write(chunk)) return callback();
    const resume = () => {
      this.scan.off('drain', resume);
      this.scan.off('close', resume);
      callback();
    };
    this.scan.on('drain', resume);
    this.scan.on('close', resume);
  }
}

/** Reads a context, gunzipped when it was sent gzipped, for the file at `wanted`. */
async function scan(source: Readable, gzip: boolean, wanted: string | null, options: ReadTarOptions = {}): Promise<string | null> {
  let found: string | null = null;
  const read = async (chunks: AsyncIterable<Buffer>) => {
    found = await readTar(chunks, wanted, options);
  };
  try {
    if (gzip) await pipeline(source, createGunzip(), read);
    else await pipeline(source, read);
  } catch (error) {
    if (isDrydockError(error)) throw error;
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context is not a gzipped tar archive: ${(error as Error).message}`, { cause: error });
  }
  return found;
}

/** A body cut short is the client's doing (400, if it is still there to read it); a full disk is INSUFFICIENT_STORAGE. */
function asDomainError(error: unknown): unknown {
  if (isDrydockError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new DrydockError(ErrorCode.INSUFFICIENT_STORAGE, 'no space left to spool the build context', { cause: error });
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR') {
    return new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context was cut short: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

function noDockerfile(path: string): DrydockError {
  return new DrydockError(ErrorCode.DOCKERFILE_INVALID, `the build context has no ${path}`);
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

/** Contexts are stored as sent, plain or gzipped (the engine accepts both): the magic bytes say which. */
async function isGzip(path: string): Promise<boolean> {
  const file = await fs.open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await file.close();
  }
}
