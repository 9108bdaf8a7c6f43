import type { TarEntry, TarNode } from './tar-index';
import { walkTree } from './tar-walk';

const entry = (kind: TarEntry['kind'], linkname = ''): TarEntry => ({
  kind,
  mode: kind === 'dir' ? 0o755 : 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtimeNs: 0n,
  linkname,
  devmajor: 0,
  devminor: 0,
  offset: 0,
});

/** A tree from paths: `dir/` for a directory, `name -> target` for a symlink, anything else a file; insertion order scrambled on purpose. */
function tree(...paths: string[]): TarNode {
  const root: TarNode = { name: '', entry: entry('dir'), children: new Map() };
  for (const spec of paths) {
    const [path, target] = spec.split(' -> ') as [string, string | undefined];
    const parts = path.replace(/\/$/, '').split('/');
    let at = root;
    parts.forEach((name, i) => {
      const last = i === parts.length - 1;
      let next = at.children?.get(name);
      if (!next) {
        const kind = !last || path.endsWith('/') ? 'dir' : target !== undefined ? 'symlink' : 'file';
        next = { name, entry: entry(kind, target ?? ''), ...(kind === 'dir' ? { children: new Map() } : {}) };
        at.children?.set(name, next);
      }
      at = next;
    });
  }
  return root;
}

const walk = (root: TarNode, options = {}) => walkTree(root, options).map((walked) => walked.path);

describe('walkTree', () => {
  it("walks as Go's filepath.Walk: each directory's entries by their bytes, a directory right before what it holds", () => {
    const root = tree('b.txt', 'a-b', 'a/z', 'a/b/c', 'A', 'é', 'a.txt');
    // `a/...` before `a-b`, though '-' < '/' as characters: fsutil's receiver checks exactly this order.
    expect(walk(root)).toEqual(['A', 'a', 'a/b', 'a/b/c', 'a/z', 'a-b', 'a.txt', 'b.txt', 'é']);
  });

  it('sends what follow paths name and the directories on the way, nothing else', () => {
    const root = tree('Dockerfile', 'docker/Dockerfile.alt', 'docker/other', 'src/main.js');
    expect(walk(root, { followPaths: ['docker/Dockerfile.alt', 'docker/Dockerfile.alt.dockerignore'] })).toEqual(['docker', 'docker/Dockerfile.alt']);
    expect(walk(root, { followPaths: ['src'] })).toEqual(['src', 'src/main.js']);
  });

  it('follows a symlink named in a follow path to its target', () => {
    const root = tree('conf -> real/conf', 'real/conf/app.ini', 'real/other');
    expect(walk(root, { followPaths: ['conf'] })).toEqual(['conf', 'real', 'real/conf', 'real/conf/app.ini']);
  });

  it('applies include patterns with wildcards per component', () => {
    const root = tree('src/a.js', 'src/b.ts', 'lib/c.js');
    expect(walk(root, { includePatterns: ['src/*.js'] })).toEqual(['src', 'src/a.js']);
  });

  it('leaves out what the exclude patterns match, whole directories included, and walks into one an exception reaches', () => {
    const root = tree('logs/app.log', 'logs/keep.log', 'node_modules/x/index.js', 'src/a.tmp', 'src/deep/b.tmp', 'src/main.js', 'secret.txt');
    const excludePatterns = ['secret.txt', 'node_modules', '**/*.tmp', 'logs', '!logs/keep.log'];
    expect(walk(root, { excludePatterns })).toEqual(['logs', 'logs/keep.log', 'src', 'src/deep', 'src/main.js']);
  });

  it('does not recurse: a context thousands of directories deep walks', () => {
    const deep = Array.from({ length: 5000 }, (_, i) => `d${i}`).join('/');
    expect(walk(tree(`${deep}/f`))).toHaveLength(5001);
  });
});
