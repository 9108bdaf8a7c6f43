import { filterImages } from './catalog';
import { compileGlob, countWildcards, pathMatch, type GlobStats } from './glob';
import type { Image } from './types';

describe('pathMatch (Go path.Match semantics)', () => {
  const table: Array<[pattern: string, name: string, matches: boolean]> = [
    ['ubuntu', 'ubuntu', true],
    ['ubuntu', 'ubuntux', false],
    ['ubuntu:*', 'ubuntu:22.04', true],
    ['ubuntu:*', 'ubuntu', false],
    ['team/*', 'team/app', true],
    ['team/*', 'team/app/sub', false],
    ['*/app', 'team/app', true],
    ['*', 'team/app', false],
    ['*', '', true],
    ['a*', 'a', true],
    ['a*b', 'axxxb', true],
    ['a*b', 'axxx/b', false],
    ['a*b*c', 'abbbcbc', true],
    ['a*b*c', 'abbbcbd', false],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['a?c', 'ac', false],
    ['a**b', 'axyb', true],
    ['[abc]x', 'bx', true],
    ['[abc]x', 'dx', false],
    ['[a-c]x', 'cx', true],
    ['[a-c]x', 'dx', false],
    ['[!a-c]x', 'dx', true],
    ['[!a-c]x', 'ax', false],
    ['[^a-c]x', 'dx', true],
    ['v[0-9].[0-9]', 'v1.2', true],
    ['v[0-9].[0-9]', 'v1.x', false],
    ['a[b', 'a[b', true],
    ['a[b', 'ab', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['localhost:5001/ns/*', 'localhost:5001/ns/colours', true],
    ['localhost:5001/ns/colours:r*', 'localhost:5001/ns/colours:red', true],
    ['localhost:5001/ns/colours:r*', 'localhost:5001/ns/colours:blue', false],
    ['ns/colours@sha256:*', 'ns/colours@sha256:0123abcd', true],
    ['.', 'x', false],
  ];

  it.each(table)('matches %j against %j: %s', (pattern, name, matches) => {
    expect(pathMatch(pattern, name)).toBe(matches);
  });

  it('answers a pathological pattern against a 300-character name in at most (n+1)·(m+1) steps', () => {
    const pattern = '*a*a*a*a*a*a*a*a*a*a*b';
    const name = 'a'.repeat(300);
    const stats: GlobStats = { steps: 0 };
    expect(compileGlob(pattern).test(name, stats)).toBe(false);
    expect(stats.steps).toBeLessThanOrEqual((name.length + 1) * (pattern.length + 1));
  });

  it('answers a pathological pattern with ? and classes just as boundedly', () => {
    const pattern = '*?a*?a*[a-z]a*?a*?a*[!/]a*?a*?a*?a*b:*?*?*?*c';
    const name = `${'a'.repeat(250)}:${'a'.repeat(60)}`;
    const stats: GlobStats = { steps: 0 };
    expect(compileGlob(pattern).test(name, stats)).toBe(false);
    expect(stats.steps).toBeLessThanOrEqual((name.length + 1) * (pattern.length + 1));
  });

  it('counts every wildcard: stars, question marks and classes', () => {
    expect(countWildcards('a*b?c[de]f')).toBe(3);
    expect(countWildcards('plain/name:tag')).toBe(0);
  });
});

describe('filterImages by reference', () => {
  const image = (repoTags: Array<[string, string]>, repoDigests: Array<[string, string]> = []): Image =>
    ({
      id: 'sha256:1',
      repoTags: repoTags.map(([repository, tag]) => ({ repository, tag })),
      repoDigests: repoDigests.map(([repository, digest]) => ({ repository, digest })),
      labels: [],
    }) as unknown as Image;

  it('matches a tag by repository or repository:tag, and a digest-only image by its repository', () => {
    const tagged = image([['ns/app', 'v1']]);
    const digestOnly = image([], [['ns/pulled', 'sha256:abc']]);
    expect(filterImages([tagged, digestOnly], { reference: 'ns/app' })).toEqual([tagged]);
    expect(filterImages([tagged, digestOnly], { reference: 'ns/*:v1' })).toEqual([tagged]);
    expect(filterImages([tagged, digestOnly], { reference: 'ns/*' })).toEqual([tagged, digestOnly]);
    expect(filterImages([tagged, digestOnly], { reference: 'ns/pulled@sha256:*' })).toEqual([digestOnly]);
  });
});
