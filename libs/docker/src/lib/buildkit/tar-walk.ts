import { posix } from 'node:path';
import { compileGlob, type Glob } from '../glob';
import { compileExcludes, excluded, goClean } from './exclude-patterns';
import type { TarNode } from './tar-index';

/**
 * fsutil's Walk (the vendored copy in moby 20.10) over an indexed tar: the
 * entries BuildKit's file sync is sent, in the order its receiver checks
 * (each directory's entries sorted by their bytes, a directory before what it
 * holds), filtered by the include patterns, the follow paths (with symlinks on
 * the way resolved into more include patterns) and the exclude patterns.
 */

export interface WalkOptions {
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  followPaths?: readonly string[];
}

export interface Walked {
  path: string;
  node: TarNode;
}

/** Bounds the follow-path resolution (symlinks to symlinks, wildcards over big directories). */
const MAX_FOLLOW_STEPS = 10_000;

function byBytes(a: TarNode, b: TarNode): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

/** A directory's entries as Go's ReadDir lists them. */
export function sortedChildren(node: TarNode): TarNode[] {
  return [...(node.children?.values() ?? [])].sort(byBytes);
}

function lookup(root: TarNode, path: string): TarNode | undefined {
  if (path === '.' || path === '') return root;
  let node: TarNode | undefined = root;
  for (const part of path.split('/')) {
    node = node?.children?.get(part);
    if (!node) return undefined;
  }
  return node;
}

export function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '*' || name[i] === '?' || name[i] === '[') return true;
  }
  return false;
}

/** fsutil's FollowLinks: each path, and every symlink met on the way to it, resolved into paths to include. */
export function followLinks(root: TarNode, paths: readonly string[]): string[] | null {
  const resolved = new Set<string>();
  let steps = 0;
  const readSymlink = (p: string, wildcard: boolean): string[] | null => {
    const base = posix.basename(p);
    if (wildcard && hasWildcards(base)) {
      const dir = lookup(root, posix.dirname(p));
      const glob = compileGlob(base);
      const out: string[] = [];
      for (const child of dir?.children ? sortedChildren(dir) : []) {
        if (++steps > MAX_FOLLOW_STEPS) throw new Error('too many paths to follow');
        if (glob.test(child.name)) out.push(...(readSymlink(posix.join(posix.dirname(p), child.name), false) ?? []));
      }
      return out;
    }
    const node = lookup(root, p);
    if (node?.entry.kind !== 'symlink') return null;
    const link = goClean(node.entry.linkname);
    return [link.startsWith('/') ? link : goClean(`/${posix.join(posix.dirname(p), link)}`)];
  };
  const append = (path: string): void => {
    if (++steps > MAX_FOLLOW_STEPS) throw new Error('too many paths to follow');
    let rest = goClean(posix.join('.', path));
    let current = '.';
    for (;;) {
      const slash = rest.indexOf('/');
      const head = slash < 0 ? rest : rest.slice(0, slash);
      current = goClean(posix.join(current, head));
      const targets = readSymlink(current, true);
      rest = slash < 0 ? '' : rest.slice(slash + 1);
      if ((rest === '' || targets !== null) && resolved.has(current)) return;
      if (targets !== null) {
        resolved.add(current);
        for (const target of targets) append(posix.join(target, rest));
        return;
      }
      if (rest === '') {
        resolved.add(current);
        return;
      }
    }
  };
  for (const path of paths) append(path);
  return dedupePaths([...resolved].sort());
}

/** fsutil's dedupePaths: sorted input; a path under one already kept goes; "." means no filter at all. */
function dedupePaths(sorted: string[]): string[] | null {
  const out: string[] = [];
  let last: string | undefined;
  for (const path of sorted) {
    if (path === '.') return null;
    if (last !== undefined && path.startsWith(`${last}/`)) continue;
    out.push(path);
    last = path;
  }
  return out;
}

/** fsutil's matchPrefix: a pattern deeper than the path is cut to its depth, and a match is then partial. */
function matchPrefix(globs: Map<string, Glob>, pattern: string, name: string): { matched: boolean; partial: boolean } {
  const depth = name.split('/').length - 1;
  const parts = pattern.split('/');
  let partial = false;
  if (parts.length - 1 > depth) {
    pattern = parts.slice(0, depth + 1).join('/');
    partial = true;
  }
  let glob = globs.get(pattern);
  if (!glob) {
    glob = compileGlob(pattern);
    globs.set(pattern, glob);
  }
  return { matched: glob.test(name), partial };
}

/**
 * Two paths in fsutil's walk order: each directory's entries sorted by their
 * bytes, a directory right before what it holds (so `a/z` comes before `a.b`).
 */
export function walkOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a.replaceAll('/', '\0')), Buffer.from(b.replaceAll('/', '\0')));
}

/** Which entries fsutil's Walk keeps, asked in walk order, and the include paths it resolved (null: all). */
export interface WalkFilter {
  includes: readonly string[] | null;
  /** Whether the entry is sent; for a directory, also whether the walk goes into it. */
  visit(path: string, node: TarNode): boolean;
}

/** Throws on a bad pattern: the sender answers it with an error packet. */
export function walkFilter(root: TarNode, options: WalkOptions = {}): WalkFilter {
  const excludes = options.excludePatterns ? compileExcludes(options.excludePatterns) : null;
  const hasExclusions = excludes?.some((pattern) => pattern.exclusion) ?? false;
  let includes: string[] | null = options.includePatterns ? options.includePatterns.map(goClean) : null;
  if (options.followPaths) {
    const targets = followLinks(root, options.followPaths);
    if (targets !== null) includes = dedupePaths([...new Set([...(includes ?? []), ...targets])].sort());
  }
  const globs = new Map<string, Glob>();
  let lastIncludedDir = '';
  const visit = (path: string, node: TarNode): boolean => {
    const isDir = node.entry.kind === 'dir';
    if (includes !== null && !(lastIncludedDir && path.startsWith(`${lastIncludedDir}/`))) {
      let matched = false;
      let partial = true;
      for (const pattern of includes) {
        const match = matchPrefix(globs, pattern, path);
        if (match.matched) {
          matched = true;
          if (!match.partial) {
            partial = false;
            break;
          }
        }
      }
      if (!matched) return false;
      if (!partial && isDir) lastIncludedDir = path;
    }
    if (excludes && excluded(excludes, path)) {
      if (!isDir || !hasExclusions) return false;
      // A directory is still walked when an exception pattern may re-include something under it.
      const dirSlash = `${path}/`;
      if (!excludes.some((pattern) => pattern.exclusion && `${pattern.text}/`.startsWith(dirSlash))) return false;
    }
    return true;
  };
  return { includes, visit };
}

/** The entries fsutil's Walk would send, in its order. Throws on a bad pattern. */
export function walkTree(root: TarNode, options: WalkOptions = {}): Walked[] {
  const filter = walkFilter(root, options);
  const out: Walked[] = [];
  // Depth first, without recursion: a context's depth is the tenant's choice.
  const stack: Array<{ prefix: string; children: TarNode[]; next: number }> = [{ prefix: '', children: sortedChildren(root), next: 0 }];
  while (stack.length) {
    const frame = stack[stack.length - 1] as (typeof stack)[number];
    const child = frame.children[frame.next++];
    if (!child) {
      stack.pop();
      continue;
    }
    const path = frame.prefix ? `${frame.prefix}/${child.name}` : child.name;
    if (!filter.visit(path, child)) continue;
    out.push({ path, node: child });
    if (child.children) stack.push({ prefix: path, children: sortedChildren(child), next: 0 });
  }
  return out;
}
