import { DrydockError, ErrorCode, isDrydockError } from '@drydock/core';
import { posix } from 'node:path';
import { walkOrder } from '@drydock/docker';
import { extract, type Extract } from 'tar-stream';

/** The engine reads a Dockerfile of any size; a check of a truncated one would not be a check of what is built. */
export const MAX_DOCKERFILE_BYTES = 1024 * 1024;

/** A tar entry's path as the engine's extraction resolves it: `./a`, `/a`, `b/../a` and `a/` all land on `a`. */
export function entryPath(name: string): string {
  return posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The first of `path`'s parent directories that is one of `links`, if any. */
function linkedParent(path: string, links: ReadonlySet<string>): string | undefined {
  for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
    const parent = path.slice(0, slash);
    if (links.has(parent)) return parent;
  }
  return undefined;
}

function waitWritable(tar: Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      tar.off('drain', done);
      tar.off('close', done);
      resolve();
    };
    tar.on('drain', done);
    tar.on('close', done);
  });
}

/**
 * Reads a tar stream to its end and answers the text of the regular file at
 * `wanted` (null when absent; with `wanted` null it only proves the stream is
 * a tar). The engine extracts the whole archive and builds from the LAST entry
 * of that path, so a second entry of it, a non-file entry, or one over
 * MAX_DOCKERFILE_BYTES is refused: what is checked is then what is built.
 * Backpressure goes from the tar parser to `source`.
 */
export interface ReadTarOptions {
  /**
   * The client said its entries come in BuildKit's walk order (`contextOrder=sorted`):
   * each must then come after the one before, or the context is refused.
   */
  sorted?: boolean;
  /** Told the Dockerfile's text as soon as its entry has been read, before the rest of the archive. */
  onFound?: (text: string) => void;
}

export async function readTar(source: AsyncIterable<Buffer>, wanted: string | null, options: ReadTarOptions = {}): Promise<string | null> {
  const target = wanted === null ? null : entryPath(wanted);
  const tar = extract();
  const result = new Promise<string | null>((resolve, reject) => {
    let found: string | null = null;
    let seen = false;
    const links = new Set<string>();
    let previous: string | null = null;
    tar.on('entry', (header, stream, next) => {
      stream.on('error', () => undefined);
      const path = entryPath(header.name);
      if (options.sorted && path) {
        if (previous !== null && walkOrder(previous, path) >= 0) {
          tar.destroy(
            new DrydockError(
              ErrorCode.VALIDATION_FAILED,
              `the build context was sent as contextOrder=sorted, but its entry ${path} comes after ${previous} (each directory's entries sorted by name, a directory right before what it holds, each path once)`,
            ),
          );
          return;
        }
        previous = path;
      }
      // An entry under a symlinked directory lands where the link points when the engine
      // extracts it (`sub -> .` then `sub/Dockerfile` overwrites the Dockerfile checked
      // here). A tar of a real directory never holds one, so it is refused outright.
      const through = linkedParent(path, links);
      if (through !== undefined) {
        tar.destroy(new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context's entry ${path} lies under the symbolic link ${through}`));
        return;
      }
      if (header.type === 'symlink') links.add(path);
      if (target === null || path !== target) {
        stream.on('end', next);
        stream.resume();
        return;
      }
      const refusal = seen
        ? `the build context holds more than one entry named ${wanted}; the engine would build from the last one`
        : header.type !== 'file'
          ? `${wanted} in the build context is a ${header.type ?? 'special entry'}, not a regular file`
          : (header.size ?? 0) > MAX_DOCKERFILE_BYTES
            ? `${wanted} is over the ${MAX_DOCKERFILE_BYTES}-byte limit for a Dockerfile`
            : null;
      seen = true;
      if (refusal) {
        tar.destroy(new DrydockError(ErrorCode.DOCKERFILE_INVALID, refusal));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        found = Buffer.concat(chunks).toString('utf8');
        options.onFound?.(found);
        next();
      });
    });
    tar.on('finish', () => resolve(found));
    tar.on('error', (error: Error) =>
      reject(
        isDrydockError(error)
          ? error
          : new DrydockError(ErrorCode.VALIDATION_FAILED, `the build context is not a tar archive: ${error.message}`, { cause: error }),
      ),
    );
    tar.on('close', () => reject(new DrydockError(ErrorCode.VALIDATION_FAILED, 'the build context ended before its tar archive did')));
  });
  const feed = (async () => {
    for await (const chunk of source) {
      if (tar.destroyed) return;
      if (!tar.write(chunk)) await waitWritable(tar);
    }
    tar.end(undefined);
  })();
  // A source that fails ends the parser too, so `result` settles either way.
  feed.catch((error: Error) => tar.destroy(error));
  const [found] = await Promise.all([result, feed]);
  return found;
}
