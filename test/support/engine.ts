import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { testEnv } from './env';

/** The Debian docker client talks to the same engine; tests use it to set up state the API then reads. */
export function docker(...args: string[]): string {
  return execFileSync('/usr/bin/docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_BUILDKIT: '0' } }).trim();
}

/** A repository namespace unique to one suite, so suites never see each other's images. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Removes every image whose reference starts with `prefix` (cleanup after a suite). */
export function removeImagesUnder(prefix: string): void {
  const refs = docker('images', '--format', '{{.Repository}}:{{.Tag}}')
    .split('\n')
    .filter((ref) => ref.includes(prefix));
  for (const ref of refs) {
    try {
      docker('rmi', '-f', ref);
    } catch {
      // Already gone.
    }
  }
}

/** `docker build` of a Dockerfile given as text (no context), with the legacy builder. */
export function dockerBuild(tag: string, dockerfile: string, ...args: string[]): string {
  return execFileSync('/usr/bin/docker', ['build', '-q', '-t', tag, ...args, '-'], {
    input: dockerfile,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  }).trim();
}

/**
 * Removes every image (intermediate ones too) carrying `label=value`. A parent
 * goes only once its children are gone, so it goes round until none is left.
 */
export function removeImagesLabelled(label: string, value: string): void {
  for (let round = 0; round < 5; round++) {
    const ids = new Set(docker('images', '-a', '-q', '--no-trunc', '--filter', `label=${label}=${value}`).split('\n').filter(Boolean));
    if (ids.size === 0) return;
    for (const id of ids) {
      try {
        docker('rmi', '-f', id);
      } catch {
        // Gone already, or it still has a child: the next round.
      }
    }
  }
}

/** The names of the volumes mounted in a container (an image's VOLUME makes an anonymous one per container). */
export function volumesOf(containerId: string): string[] {
  const mounts = JSON.parse(docker('container', 'inspect', '--format', '{{json .Mounts}}', containerId)) as Array<{ Type: string; Name?: string }> | null;
  return (mounts ?? []).filter((mount) => mount.Type === 'volume' && mount.Name).map((mount) => mount.Name as string);
}

/** Whether the engine still has a volume (`docker volume ls` lists it). */
export function volumeExists(name: string): boolean {
  return docker('volume', 'ls', '-q').split('\n').includes(name);
}

/** Shared by every suite, the fixture may have been removed from the engine: it is in the registry. */
export function ensureFixture(): void {
  try {
    docker('image', 'inspect', testEnv.fixture);
  } catch {
    docker('pull', '-q', testEnv.fixture);
  }
}

export interface BuildCacheRecord {
  Type: string;
  InUse: boolean;
  CreatedAt: string;
}

/** The engine's build cache records, from its own API (`GET /system/df`). */
export function buildCacheRecords(): Promise<BuildCacheRecord[]> {
  const socketPath = (process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  return new Promise((resolve, reject) => {
    const asked = httpRequest({ socketPath, path: '/v1.41/system/df', headers: { host: 'docker' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (piece: string) => (text += piece));
      response.on('end', () => resolve((JSON.parse(text) as { BuildCache?: BuildCacheRecord[] }).BuildCache ?? []));
      response.on('error', reject);
    });
    asked.on('error', reject);
    asked.end();
  });
}

/** Contexts BuildKit synced (local-source snapshots) made since `since` and held by no running build. */
export async function idleSyncedContexts(since: number): Promise<BuildCacheRecord[]> {
  return (await buildCacheRecords()).filter((record) => record.Type === 'source.local' && !record.InUse && Date.parse(record.CreatedAt) >= since);
}

