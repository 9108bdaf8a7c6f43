import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@drydock/core';
import { DockerEngine, type BuildkitOptions } from '@drydock/docker';
import { docker, idleSyncedContexts, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';

/**
 * A BuildKit build's context served through the session's FileSync straight
 * from the spooled tar (what the worker does with a plain tar), against the
 * same tar sent as the build's body: the image's files must be the same.
 */

const engine = new DockerEngine({ dockerHost: process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock' });
const base = testEnv.fixture;
const scratch = mkdtempSync(join(tmpdir(), 'dd-filesync-'));
const built = new Set<string>();

/** Every path under /ctx with its type, mode, owner, size, link target and content hash, one a line. */
const MANIFEST = [
  'cd /ctx && find . | sort | while read -r f; do',
  '  if [ -L "$f" ]; then echo "$f link $(readlink "$f")";',
  '  elif [ -d "$f" ]; then echo "$f dir $(stat -c %a:%u:%g "$f")";',
  '  else echo "$f file $(stat -c %a:%u:%g:%s "$f") $(stat -c %Y "$f") $(sha256sum < "$f" | cut -c1-16)"; fi;',
  'done',
].join(' ');

interface Outcome {
  image: string | null;
  error: (Error & { code?: string }) | null;
  vertexNames: string[];
}

async function build(tar: string, fileSync: boolean, options: BuildkitOptions = {}): Promise<Outcome> {
  const outcome: Outcome = { image: null, error: null, vertexNames: [] };
  try {
    const context = createReadStream(tar);
    for await (const message of engine.images.buildKit(context, { noCache: true, ...options, ...(fileSync ? { contextFile: tar } : {}) })) {
      if (message.kind === 'image') outcome.image = message.id;
      else outcome.vertexNames.push(...message.vertexes.map((vertex) => vertex.name));
    }
  } catch (error) {
    outcome.error = error as Error & { code?: string };
  }
  if (outcome.image) built.add(outcome.image);
  return outcome;
}

function manifestOf(image: string): string {
  return docker('run', '--rm', '--network', 'none', image, 'sh', '-c', MANIFEST);
}

/** A context with what a real one holds: nested directories, a symlink, an executable, an empty file, a large file, ignored files. */
function makeContext(name: string, dockerfile: string, extra: (dir: string) => void = () => undefined, owner = 0): string {
  const dir = join(scratch, name);
  execFileSync('mkdir', ['-p', join(dir, 'src/lib/deep'), join(dir, 'logs'), join(dir, 'empty-dir'), join(dir, 'docker')]);
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(join(dir, 'docker/Dockerfile.alt'), dockerfile);
  writeFileSync(join(dir, 'src/main.js'), 'console.log("hi")\n');
  writeFileSync(join(dir, 'src/lib/deep/data.bin'), randomBytes(3000));
  writeFileSync(join(dir, 'src/a-b.txt'), 'sorts between src/a and src/a/...\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024 + 123));
  writeFileSync(join(dir, 'secret.txt'), 'must not be sent\n');
  writeFileSync(join(dir, 'logs/app.log'), 'ignored\n');
  writeFileSync(join(dir, 'logs/keep.log'), 'kept by an exception\n');
  execFileSync('ln', ['-s', 'src/main.js', join(dir, 'link-to-main')]);
  // Node's http2 joins the patterns BuildKit sends with ", ": one holding ", " must still be one pattern.
  writeFileSync(join(dir, 'a, b.txt'), 'ignored by a pattern with a comma\n');
  writeFileSync(join(dir, 'a'), 'kept: only "a, b.txt" is ignored\n');
  writeFileSync(join(dir, '.dockerignore'), 'secret.txt\nlogs\n!logs/keep.log\n**/*.tmp\n# a comment\na, b.txt\n');
  writeFileSync(join(dir, 'src/lib/scratch.tmp'), 'ignored too\n');
  extra(dir);
  const tar = join(scratch, `${name}.tar`);
  // GNU tar lists entries in the directory's order, not sorted: the sender sorts.
  execFileSync('tar', ['-C', dir, `--owner=${owner}`, `--group=${owner}`, '-cf', tar, '.']);
  return tar;
}

afterAll(() => {
  for (const id of built) {
    try {
      docker('rmi', '-f', id);
    } catch {
      // Gone already.
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('BuildKit contexts served through the session (FileSync)', () => {
  const ns = uniqueNamespace('e2e-bk-filesync');

  it('builds from a tar served in place the same files as from the tar sent as the body, less what .dockerignore excludes', async () => {
    const tar = makeContext('same', `FROM ${base}\nCOPY . /ctx/\nLABEL drydock.test=${ns}\n`);
    const viaSync = await build(tar, true);
    const viaBody = await build(tar, false);
    expect(viaSync.error).toBeNull();
    expect(viaBody.error).toBeNull();
    // The tar body path has the engine unpack the upload; FileSync does not.
    expect(viaBody.vertexNames.some((name) => /load remote build context/.test(name))).toBe(true);
    expect(viaSync.vertexNames.some((name) => /load remote build context/.test(name))).toBe(false);
    const manifest = manifestOf(viaSync.image as string);
    // The engine applies no .dockerignore to a tar body (the docker CLI applies it while making the tar);
    // through FileSync BuildKit's frontend asks for the context without what it excludes, as for the CLI's directory.
    const ignored = /secret\.txt|app\.log|scratch\.tmp|a, b\.txt/;
    const bodyManifest = manifestOf(viaBody.image as string);
    expect(bodyManifest).toMatch(ignored);
    expect(manifest).toBe(
      bodyManifest
        .split('\n')
        .filter((line) => !ignored.test(line))
        .join('\n'),
    );
    expect(manifest).toMatch(/^\.\/run\.sh file 755:0:0:/m);
    expect(manifest).toMatch(/^\.\/empty file 644:0:0:0 \d+ /m);
    expect(manifest).toMatch(/^\.\/big\.bin file 644:0:0:3145851 \d+ /m);
    expect(manifest).toMatch(/^\.\/link-to-main link src\/main\.js$/m);
    expect(manifest).toMatch(/^\.\/src\/lib\/deep\/data\.bin file /m);
    expect(manifest).toMatch(/^\.\/empty-dir dir 755:0:0$/m);
    expect(manifest).toMatch(/^\.\/logs\/keep\.log file /m);
    expect(manifest).toMatch(/^\.\/a file /m);
    expect(manifest).not.toMatch(ignored);
  }, 120_000);

  it("prunes the copies of synced contexts BuildKit keeps in the engine's build cache, once their builds are over", async () => {
    const since = Date.now() - 1_000;
    const tar = makeContext('pruned', `FROM ${base}\nCOPY big.bin /big.bin\nLABEL drydock.test=${ns}\n`);
    const outcome = await build(tar, true);
    expect(outcome.error).toBeNull();
    // Each build syncs under a shared key of its own, so its snapshot would never be used again.
    expect((await idleSyncedContexts(since)).length).toBeGreaterThan(0);
    await engine.images.pruneSyncedContexts();
    expect(await idleSyncedContexts(since)).toEqual([]);
  }, 120_000);

  it('takes the Dockerfile named inside the context, and keeps the owners the tar gives its files, as the tar body does', async () => {
    const tar = makeContext(
      'alt',
      'FROM scratch\n',
      (dir) => writeFileSync(join(dir, 'docker/Dockerfile.alt'), `FROM ${base}\nCOPY src /ctx/\nRUN echo alt > /alt\n`),
      1234,
    );
    const outcome = await build(tar, true, { dockerfile: 'docker/Dockerfile.alt' });
    expect(outcome.error).toBeNull();
    expect(docker('run', '--rm', '--network', 'none', outcome.image as string, 'cat', '/alt').trim()).toBe('alt');
    const manifest = manifestOf(outcome.image as string);
    expect(manifest).toMatch(/^\.\/main\.js file 644:1234:1234:/m);
    const viaBody = await build(tar, false, { dockerfile: 'docker/Dockerfile.alt' });
    // Less what the context's .dockerignore excludes, which only FileSync applies.
    expect(manifest).toBe(
      manifestOf(viaBody.image as string)
        .split('\n')
        .filter((line) => !line.includes('scratch.tmp') && !line.includes('a, b.txt'))
        .join('\n'),
    );
  }, 120_000);

  it('falls back to the tar body for a gzipped context', async () => {
    const tar = makeContext('gz', `FROM ${base}\nCOPY run.sh /ctx/\n`);
    const gz = `${tar}.gz`;
    execFileSync('sh', ['-c', 'gzip -c "$0" > "$1"', tar, gz]);
    const outcome = await build(gz, true);
    expect(outcome.error).toBeNull();
    expect(outcome.vertexNames.some((name) => /load remote build context/.test(name))).toBe(true);
  }, 120_000);

  it('fails a build whose spooled context is cut while BuildKit reads it, with a classified error naming the context, and nothing hangs', async () => {
    const tar = makeContext('cut', `FROM ${base}\nCOPY . /ctx/\n`, (dir) => writeFileSync(join(dir, 'huge.bin'), Buffer.alloc(200 * 1024 * 1024, 7)));
    let cut = false;
    let error: (Error & { code?: string }) | null = null;
    const started = Date.now();
    try {
      for await (const message of engine.images.buildKit(createReadStream(tar), { noCache: true, contextFile: tar })) {
        // The index is taken and the session open once the engine reports: the data is then read from a file cut short.
        if (!cut && message.kind === 'trace') {
          cut = true;
          execFileSync('truncate', ['-s', '1M', tar]);
        }
      }
    } catch (caught) {
      error = caught as Error & { code?: string };
    }
    expect(cut).toBe(true);
    expect(error?.code).toBe(ErrorCode.BUILD_FAILED);
    expect(error?.message).toMatch(/could not read the build context/);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
