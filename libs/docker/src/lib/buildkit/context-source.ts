import { open, type FileHandle } from 'node:fs/promises';
import { DrydockError, ErrorCode } from '@drydock/core';
import { tarHeaders, TarIndexUnsupported, type TarBytes } from './tar-headers';
import { MAX_INDEXED_ENTRIES, Tree, type TarNode } from './tar-index';
import { goClean, readDockerignore } from './exclude-patterns';
import { followLinks, hasWildcards, walkFilter, walkOrder, walkTree, type Walked, type WalkOptions } from './tar-walk';

/**
 * What FileSync serves a build from: the spooled tar, whole, or still
 * arriving. A context the client sent in walk order is served as it arrives,
 * so the upload and the build's transfer overlap: each entry goes out once
 * its header is on disk, each file's bytes once they are.
 */

/** How far the upload behind a spooled context has got: the API writes it, the worker reads it. */
export type ContextState = { state: 'receiving' } | { state: 'complete' } | { state: 'failed'; error: Error };

/** The upload behind a context the build follows as it grows. */
export interface ContextUpload {
  state(): Promise<ContextState>;
  /**
   * Calls `onChange` when the upload ends or fails, where the upload is
   * received in this process; answers how to stop. Without it (another
   * process receives it) the state is polled.
   */
  watch?(onChange: () => void): () => void;
}

/** What a DiffCopy call asks for, from its metadata. */
export interface WalkRequest extends Omit<WalkOptions, 'excludePatterns'> {
  /** The `exclude-patterns` values as the header carried them (see excludePatterns). */
  excludeHeader?: readonly string[];
}

export interface ContextFiles {
  /** The entries of a dir BuildKit asks for (`context`, `dockerfile`), in walk order; null for any other. */
  walk(dirName: string, request: WalkRequest): AsyncIterable<Walked> | null;
  /** A file's bytes from the tar, once they are there. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/** A `.dockerignore` larger than this is not read back to split the exclude header. */
const MAX_DOCKERIGNORE_BYTES = 1024 * 1024;

/**
 * The exclude patterns as sent. BuildKit sends each pattern as its own header
 * field and Node's http2 joins them with ", "; the Dockerfile frontend sends
 * the context's own `.dockerignore`, so where the joined header is exactly
 * that file's patterns joined, they are the patterns, each whole even when one
 * holds ", ".
 */
async function excludePatterns(joined: readonly string[] | undefined, root: TarNode, files: Pick<ContextFiles, 'read'>): Promise<string[] | undefined> {
  if (!joined?.length) return undefined;
  const ignore = root.children?.get('.dockerignore')?.entry;
  if (joined.length === 1 && joined[0]?.includes(', ') && ignore?.kind === 'file' && ignore.size <= MAX_DOCKERIGNORE_BYTES) {
    const text = Buffer.alloc(ignore.size);
    await files.read(text, 0, ignore.size, ignore.offset);
    const patterns = readDockerignore(text.toString('utf8'));
    if (patterns.join(', ') === joined[0]) return patterns;
  }
  return joined.flatMap((value) => value.split(', '));
}

function offered(dirName: string): boolean {
  // Both dirs are the context: the Dockerfile is asked for by its path inside it.
  return dirName === 'context' || dirName === 'dockerfile';
}

/** A context whose upload is whole: indexed once, walked in full for each call. */
export function wholeContext(root: TarNode, file: FileHandle): ContextFiles {
  const files: ContextFiles = {
    walk: (dirName, { excludeHeader, ...request }) => {
      if (!offered(dirName)) return null;
      return (async function* () {
        const excludes = await excludePatterns(excludeHeader, root, files);
        yield* walkTree(root, { ...request, ...(excludes ? { excludePatterns: excludes } : {}) });
      })();
    },
    read: async (buffer, offset, length, position) => (await file.read(buffer, offset, length, position)).bytesRead,
    close: () => file.close(),
  };
  return files;
}

/** Polls for more bytes this often at first, backing off to the slower pace while none come. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 50;
/** An upload that sends nothing for this long is taken for gone (its API process died, say). */
export const STALLED_AFTER_MS = 60_000;

/**
 * A context still arriving, in walk order (the API refuses the upload when
 * it is not). Its headers are parsed as they land; the entries, with the
 * parents the archive leaves out, are kept in that order for every walk.
 */
export class GrowingContext implements ContextFiles, TarBytes {
  private readonly tree: Tree;
  private readonly arrived: Walked[] = [];
  private last: string | null = null;
  private size = 0;
  private whole = false;
  private failure: Error | null = null;
  private parsed = false;
  private polling: Promise<void> | null = null;
  private delay = POLL_MIN_MS;
  private idleSince = Date.now();
  private waiters: Array<() => void> = [];
  /** Ends the poll's pause early: the upload said it changed. */
  private nudge: () => void = () => undefined;
  private readonly unwatch: () => void;

  private constructor(
    readonly file: FileHandle,
    private readonly upload: ContextUpload,
    private readonly signal: AbortSignal,
  ) {
    this.unwatch = upload.watch?.(() => this.nudge()) ?? (() => undefined);
    this.tree = new Tree(MAX_INDEXED_ENTRIES, (path, node) => {
      if (this.last !== null && walkOrder(this.last, path) >= 0) {
        throw new TarIndexUnsupported(`the context is not in walk order: ${path} comes after ${this.last}`);
      }
      this.last = path;
      this.arrived.push({ path, node });
    });
  }

  static async open(path: string, upload: ContextUpload, signal: AbortSignal): Promise<GrowingContext> {
    const context = new GrowingContext(await open(path, 'r'), upload, signal);
    context.parse().catch(() => undefined);
    return context;
  }

  /** The upload's outcome: resolves once it is whole, throws its error if it failed. */
  async settled(): Promise<void> {
    while (!this.whole) {
      if (this.failure) throw this.failure;
      await this.poll();
    }
  }

  async reach(end: number): Promise<boolean> {
    for (;;) {
      if (this.size >= end) return true;
      if (this.failure) throw this.failure;
      if (this.whole) return false;
      await this.poll();
    }
  }

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    await this.reach(position + length);
    return (await this.file.read(buffer, offset, length, position)).bytesRead;
  }

  close(): Promise<void> {
    this.unwatch();
    this.failure ??= new Error('the build context was closed');
    this.wake();
    return this.file.close();
  }

  walk(dirName: string, { excludeHeader, ...request }: WalkRequest): AsyncIterable<Walked> | null {
    if (!offered(dirName)) return null;
    return this.walkArriving(excludeHeader, request, dirName === 'dockerfile' ? this.fallbackNames(request.followPaths ?? []) : new Map());
  }

  /**
   * BuildKit's Dockerfile frontend follows `dockerfile` beside a `Dockerfile`
   * it is asked for, and reads it only when the `Dockerfile` is missing
   * (moby/moby#10858). Sorted, `dockerfile` comes after every upper-case and
   * most other names: waiting for it would hold the build until nearly the
   * whole upload is in. Once the `Dockerfile` is there it is not waited for.
   */
  private fallbackNames(followPaths: readonly string[]): Map<string, string> {
    const cleaned = followPaths.map(goClean);
    const names = new Map<string, string>();
    for (const path of cleaned) {
      const slash = path.lastIndexOf('/');
      if (path.slice(slash + 1) !== 'dockerfile') continue;
      const named = `${path.slice(0, slash + 1)}Dockerfile`;
      if (cleaned.includes(named)) names.set(path, named);
    }
    return names;
  }

  private async *walkArriving(
    excludeHeader: readonly string[] | undefined,
    request: Omit<WalkRequest, 'excludeHeader'>,
    fallbacks: ReadonlyMap<string, string>,
  ): AsyncGenerator<Walked> {
    if (excludeHeader?.length) await this.passed(['.dockerignore']);
    await this.passed([...fallbacks.values()]);
    const needed = (path: string) => !this.has(fallbacks.get(path) ?? '');
    if (request.followPaths?.length) {
      // The links on the way to a followed path must all be there before it is resolved: wait until it stops changing.
      let paths: readonly string[] = request.followPaths.map(goClean);
      for (;;) {
        await this.passed(paths.filter(needed));
        const resolved = followLinks(this.tree.root, request.followPaths) ?? [];
        if (resolved.join('\0') === paths.join('\0')) break;
        paths = resolved;
      }
    }
    const excludes = await excludePatterns(excludeHeader, this.tree.root, this);
    const filter = walkFilter(this.tree.root, { ...request, ...(excludes ? { excludePatterns: excludes } : {}) });
    // Plain paths to include end the walk once the upload has gone past them; a wildcard may match to the end.
    const bounded = filter.includes !== null;
    const awaited = (filter.includes ?? []).filter(needed);
    let skipped: string | null = null;
    for (let next = 0; ; ) {
      while (next < this.arrived.length) {
        const { path, node } = this.arrived[next++] as Walked;
        if (skipped !== null && path.startsWith(skipped)) continue;
        skipped = null;
        if (filter.visit(path, node)) yield { path, node };
        else if (node.children) skipped = `${path}/`;
      }
      if (this.parsed || (bounded && this.isPast(awaited))) return;
      if (this.failure) throw this.failure;
      await this.more();
    }
  }

  /** Whether a regular file is at `path` (as far as the upload has got). */
  private has(path: string): boolean {
    let node: TarNode | undefined = this.tree.root;
    for (const part of path.split('/')) node = node?.children?.get(part);
    return node?.entry.kind === 'file';
  }

  /** Whether the upload has gone past each path and all it holds, or ended. */
  private isPast(paths: readonly string[]): boolean {
    if (this.parsed || paths.length === 0) return true;
    const last = this.last;
    // A wildcard may match anywhere up to the end.
    return last !== null && paths.every((path) => !hasWildcards(path) && walkOrder(last, path) > 0 && !last.startsWith(`${path}/`));
  }

  private async passed(paths: readonly string[]): Promise<void> {
    while (!this.isPast(paths)) {
      if (this.failure) throw this.failure;
      await this.more();
    }
  }

  /** Waits for the next entry (or the end, or a failure). */
  private more(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private async parse(): Promise<void> {
    try {
      for await (const header of tarHeaders(this)) {
        if (header.hardlink !== undefined) this.tree.putLink(header.path, header.hardlink);
        else this.tree.put(header.path, header.entry);
        this.wake();
      }
      this.parsed = true;
    } catch (error) {
      this.failure ??= error instanceof TarIndexUnsupported ? new DrydockError(ErrorCode.BUILD_FAILED, `the build context cannot be streamed: ${error.message}`) : (error as Error);
    } finally {
      this.wake();
    }
  }

  /** One look at the file and, while it does not grow, at the upload's state; shared by every waiter. */
  private poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = null));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (this.signal.aborted) {
      this.failure ??= this.signal.reason instanceof Error ? this.signal.reason : new Error('the build was stopped');
      return this.wake();
    }
    const { size } = await this.file.stat();
    const grew = size > this.size;
    if (grew) {
      this.size = size;
      this.idleSince = Date.now();
      this.delay = POLL_MIN_MS;
      // Those waiting for less are answered now; the others look again after a pause, not in a busy loop.
      this.wake();
    } else {
      const state = await this.upload.state();
      if (state.state === 'complete') {
        // The API marks the upload whole after its last write: this size is final.
        this.size = (await this.file.stat()).size;
        this.whole = true;
      } else if (state.state === 'failed') {
        this.failure ??= state.error;
      } else if (Date.now() - this.idleSince > STALLED_AFTER_MS) {
        this.failure ??= new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context stopped arriving: nothing came for ${STALLED_AFTER_MS / 1000} s`);
      }
    }
    if (this.failure || this.whole) return this.wake();
    await this.pause();
    if (!grew) this.delay = Math.min(this.delay * 2, POLL_MAX_MS);
  }

  /** The poll's pause: `delay`, or less when the upload says it changed or the build stops. */
  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        this.nudge = () => undefined;
        resolve();
      };
      const timer = setTimeout(done, this.delay);
      this.signal.addEventListener('abort', done, { once: true });
      this.nudge = done;
    });
  }
}
