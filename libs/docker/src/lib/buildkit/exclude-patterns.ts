import { posix } from 'node:path';
import { characterClass } from '../glob';

/**
 * Docker's `.dockerignore` matcher (moby 20.10 pkg/fileutils PatternMatcher,
 * which fsutil's walk uses for BuildKit's exclude patterns): `*` and `?` stay
 * inside a component, `**` spans any number of them, `!` re-includes, and a
 * pattern matching a parent directory matches what lies under it.
 *
 * Moby turns each pattern into a Go regexp, which runs in linear time. The
 * patterns come from a tenant's `.dockerignore`, and a JS regexp of nested
 * `(.*\/)?` groups backtracks exponentially, so this runs the same language
 * as a set of states over the path: (path length) x (pattern length) steps.
 * Regexp operators Go would read in a pattern (`+`, `(`, `|`, `{`) are taken
 * as the literal characters a `.dockerignore` author means by them.
 */

type Token =
  | { kind: 'char'; test: (c: string) => boolean }
  /** `*`: any run of characters but `/`. */
  | { kind: 'star' }
  /** `**` inside a pattern: nothing, or anything ending in `/`. */
  | { kind: 'dirs' }
  /** `**` ending a pattern: anything. */
  | { kind: 'rest' };

export interface ExcludePattern {
  text: string;
  exclusion: boolean;
  dirs: number;
  tokens: Token[];
}

/** Go's path.Clean. */
export function goClean(path: string): string {
  if (path === '') return '.';
  const cleaned = posix.normalize(path);
  return cleaned.length > 1 ? cleaned.replace(/\/+$/, '') : cleaned;
}

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        tokens.push({ kind: i + 1 >= chars.length ? 'rest' : 'dirs' });
      } else tokens.push({ kind: 'star' });
    } else if (c === '?') {
      tokens.push({ kind: 'char', test: (x) => x !== '/' });
    } else if (c === '\\') {
      const literal = i + 1 < chars.length ? (chars[++i] as string) : '\\';
      tokens.push({ kind: 'char', test: (x) => x === literal });
    } else if (c === '[') {
      let end = i + 1;
      if (chars[end] === '^') end++;
      if (chars[end] === ']') end++;
      while (end < chars.length && chars[end] !== ']') end += chars[end] === '\\' ? 2 : 1;
      if (end >= chars.length) throw new Error(`invalid exclude pattern ${pattern}: unterminated [`);
      tokens.push({ kind: 'char', test: characterClass(chars.slice(i + 1, end).join(''), '^') });
      i = end;
    } else {
      tokens.push({ kind: 'char', test: (x) => x === c });
    }
  }
  return tokens;
}

/** Compiles the patterns as moby's NewPatternMatcher does (blank ones dropped, each cleaned, `!` for exceptions). */
export function compileExcludes(patterns: readonly string[]): ExcludePattern[] {
  const compiled: ExcludePattern[] = [];
  for (const raw of patterns) {
    let text = raw.trim();
    if (!text) continue;
    text = goClean(text);
    let exclusion = false;
    if (text.startsWith('!')) {
      if (text.length === 1) throw new Error('illegal exclusion pattern: "!"');
      exclusion = true;
      text = text.slice(1);
    }
    compiled.push({ text, exclusion, dirs: text.split('/').length, tokens: tokenize(text) });
  }
  return compiled;
}

/** Whether the whole of `path` is in the pattern's language: a set of live states, advanced one character at a time. */
export function matchTokens(tokens: readonly Token[], path: string): boolean {
  let live = new Set<number>([0]);
  const close = (states: Set<number>) => {
    for (const state of states) {
      const token = tokens[state];
      if (token && token.kind !== 'char') states.add(state + 1);
    }
    return states;
  };
  live = close(live);
  for (const c of path) {
    const next = new Set<number>();
    for (const state of live) {
      const token = tokens[state];
      if (!token) continue;
      if (token.kind === 'char') {
        if (token.test(c)) next.add(state + 1);
      } else if (token.kind === 'star') {
        if (c !== '/') next.add(state);
      } else {
        next.add(state);
        if (token.kind === 'dirs' && c === '/') next.add(state + 1);
      }
    }
    if (!next.size) return false;
    live = close(next);
  }
  return live.has(tokens.length);
}

/** PatternMatcher.Matches: the last pattern that matches the path, or one of its parents, decides. */
export function excluded(patterns: readonly ExcludePattern[], path: string): boolean {
  const parent = posix.dirname(path);
  const parentDirs = parent.split('/');
  let matched = false;
  for (const pattern of patterns) {
    let match = matchTokens(pattern.tokens, path);
    if (!match && parent !== '.' && pattern.dirs <= parentDirs.length) {
      match = matchTokens(pattern.tokens, parentDirs.slice(0, pattern.dirs).join('/'));
    }
    if (match) matched = !pattern.exclusion;
  }
  return matched;
}

/** moby's builder/dockerignore.ReadAll: comments and blank lines dropped, each pattern cleaned, a leading `/` taken off. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    // Go's line scanner drops a trailing \r.
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (index === 0) line = line.replace(/^\uFEFF/, '');
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (!pattern) continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}
