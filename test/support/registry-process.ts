import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './graphql';
import { freePort } from './process';

/**
 * An open docker-registry of a suite's own (as scripts/services.sh starts the
 * shared ones), on a free loopback port: a suite may stop it mid-push and
 * start it again on the same storage without disturbing the others.
 */
export class RegistryProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** `localhost:<port>`: the engine lets plain HTTP through for localhost. */
  get host(): string {
    return `localhost:${this.port}`;
  }

  static async start(): Promise<RegistryProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-registry-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const registry = new RegistryProcess(dir, port);
    await registry.start();
    return registry;
  }

  async start(): Promise<void> {
    const log = openSync(join(this.dir, 'registry.log'), 'a');
    const child = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: ['ignore', log, log] });
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error('docker-registry exited early');
        try {
          return (await fetch(`http://127.0.0.1:${this.port}/v2/`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      20_000,
      `registry :${this.port} to answer`,
    );
  }

  /** Kills it outright, as a registry host going away would. */
  async stop(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  /** Whether the registry serves a complete manifest for `repository:tag`. */
  async hasManifest(repository: string, tag: string): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${this.port}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    return response.ok;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
