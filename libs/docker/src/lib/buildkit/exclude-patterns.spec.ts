import { compileExcludes, excluded, readDockerignore } from './exclude-patterns';

const matches = (patterns: string[], path: string) => excluded(compileExcludes(patterns), path);

describe('exclude patterns (moby 20.10 PatternMatcher)', () => {
  it.each([
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/README.md', false],
    [['**/*.md'], 'docs/a/README.md', true],
    [['**/*.md'], 'README.md', true],
    [['docs/**'], 'docs/a/b', true],
    [['docs'], 'docs/a/b', true],
    [['do?s'], 'docs', true],
    [['[a-c]at'], 'bat', true],
    [['[^a-c]at'], 'bat', false],
    [['./secret/'], 'secret', true],
    [['*', '!keep'], 'keep', false],
    [['*', '!keep'], 'other', true],
    [['a.b'], 'axb', false],
    [['a\\*b'], 'a*b', true],
  ])('%j against %s: %s', (patterns, path, expected) => {
    expect(matches(patterns, path)).toBe(expected);
  });

  it('matches in time linear in the path, where a backtracking regexp of nested ** would not finish', () => {
    const pattern = `${'**/'.repeat(30)}x`;
    const path = `${'a/'.repeat(2000)}y`;
    const started = Date.now();
    expect(matches([pattern], path)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reads a .dockerignore as moby's ReadAll: comments, blanks and a leading slash dropped, exceptions kept", () => {
    expect(readDockerignore('\uFEFF# comment\n/secret.txt\r\n\n  logs/  \n! logs/keep.log\n')).toEqual(['secret.txt', 'logs', '!logs/keep.log']);
  });
});
