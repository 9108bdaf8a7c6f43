/**
 * Go's path.Match, as Docker uses for the `reference` filter: `*` and `?`
 * never cross a `/`, `[...]` and `[!...]` (or `[^...]`) are classes with
 * ranges, `\` escapes. An unterminated `[` is a literal `[`.
 *
 * A RegExp of `[^/]*` runs backtracks exponentially on patterns like
 * `*a*a*a*b` (a viewer's list request held the event loop for 19 s); this
 * matches component by component with the greedy two-pointer algorithm,
 * which keeps one backtrack point per component: at most
 * (name length + 1) × (pattern tokens + 1) steps per component.
 */

type Token = { star: true } | { star: false; test: (c: string) => boolean };

export interface GlobStats {
  /** Character comparisons made: for tests, to show the work stays linear. */
  steps: number;
}

export interface Glob {
  test(name: string, stats?: GlobStats): boolean;
}

export function compileGlob(pattern: string): Glob {
  const components = splitComponents(pattern).map(tokenize);
  return {
    test(name: string, stats: GlobStats = { steps: 0 }): boolean {
      const parts = name.split('/');
      if (parts.length !== components.length) return false;
      return components.every((tokens, i) => matchComponent(tokens, parts[i] as string, stats));
    },
  };
}

/** One-shot pathMatch(pattern, name); compile once with compileGlob to test many names. */
export function pathMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

/** Splits on `/` outside classes and escapes: a component's tokens then never need to see a `/`. */
function splitComponents(pattern: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end > 0) i = end;
    } else if (c === '/') {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(pattern.slice(start));
  return parts;
}

/** Index of the `]` closing the class opened at `open`, or -1 when there is none (then `[` is literal). */
function classEnd(pattern: string, open: number): number {
  for (let i = open + 1; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}

function tokenize(component: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < component.length; i++) {
    const c = component[i] as string;
    if (c === '*') {
      // Consecutive stars are one star: the greedy loop then never revisits them.
      if (!tokens.at(-1)?.star) tokens.push({ star: true });
    } else if (c === '?') {
      tokens.push({ star: false, test: () => true });
    } else if (c === '\\' && i + 1 < component.length) {
      const literal = component[++i] as string;
      tokens.push({ star: false, test: (x) => x === literal });
    } else if (c === '[' && classEnd(component, i) > 0) {
      const end = classEnd(component, i);
      tokens.push({ star: false, test: characterClass(component.slice(i + 1, end)) });
      i = end;
    } else {
      tokens.push({ star: false, test: (x) => x === c });
    }
  }
  return tokens;
}

/** A `[...]` class's test; `negators` are the characters that negate it when first (a Go regexp takes only `^`). */
export function characterClass(body: string, negators = '!^'): (c: string) => boolean {
  const negated = body.length > 0 && negators.includes(body[0] as string);
  const chars = [...(negated ? body.slice(1) : body).replace(/\\(.)/g, '$1')];
  const ranges: Array<[string, string]> = [];
  for (let i = 0; i < chars.length; i++) {
    const lo = chars[i] as string;
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      ranges.push([lo, chars[i + 2] as string]);
      i += 2;
    } else ranges.push([lo, lo]);
  }
  return (c) => ranges.some(([lo, hi]) => lo <= c && c <= hi) !== negated;
}

/**
 * The classic greedy wildcard match: on a mismatch, let the last star take
 * one more character and retry from there. Earlier stars never need to move,
 * since the last one can absorb anything they could.
 */
function matchComponent(tokens: Token[], text: string, stats: GlobStats): boolean {
  let t = 0;
  let p = 0;
  let starToken = -1;
  let starText = 0;
  while (t < text.length) {
    stats.steps++;
    const token = tokens[p];
    if (token && token.star) {
      starToken = p++;
      starText = t;
    } else if (token && token.test(text[t] as string)) {
      p++;
      t++;
    } else if (starToken >= 0) {
      p = starToken + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (tokens[p]?.star) p++;
  return p === tokens.length;
}

/** How many wildcards (`*`, `?`, classes) a pattern holds: what a caller may cap. */
export function countWildcards(pattern: string): number {
  return (pattern.match(/[*?[]/g) ?? []).length;
}
