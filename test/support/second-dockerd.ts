import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './graphql';

const run = promisify(execFile);

/**
 * A Docker engine of a suite's own, for the faults a suite inflicts on the
 * engine itself (stopping and restarting it): the shared engine the other
 * suites use is never touched. Its own data root, exec root, pid file and
 * socket live under one short temp dir (the exec root holds containerd's
 * socket, and a unix socket path must stay under 108 bytes). Stopping it and
 * starting it again reuses the same dirs, as an engine restart would.
 */
export class SecondDockerd {
  readonly dir: string;
  readonly socket: string;
  /** DOCKER_HOST for the app under test. */
  readonly host: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(private readonly extraArgs: string[]) {
    this.dir = mkdtempSync('/tmp/dd-');
    this.socket = join(this.dir, 'd.sock');
    this.host = `unix://${this.socket}`;
  }

  /** Starts a new engine; `extraArgs` go to every start. */
  static async start(extraArgs: string[] = []): Promise<SecondDockerd> {
    const engine = new SecondDockerd(extraArgs);
    await engine.start();
    return engine;
  }

  /** Starts the engine on its dirs and waits until it answers. */
  async start(deadlineMs = 30_000): Promise<void> {
    if (this.child) throw new Error('the second dockerd is already running');
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    const child = spawn(
      'dockerd',
      [
        `--data-root=${join(this.dir, 'data')}`,
        `--exec-root=${join(this.dir, 'x')}`,
        `--pidfile=${join(this.dir, 'd.pid')}`,
        `--host=${this.host}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        // A stop that waits 15 s for containers would make every restart test slow.
        '--shutdown-timeout=2',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', log, log], detached: false },
    );
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the second dockerd exited early:\n${this.log().slice(-2000)}`);
        try {
          await this.docker('version');
          return true;
        } catch {
          return undefined;
        }
      },
      deadlineMs,
      'the second dockerd to answer',
    );
  }

  /** Stops the engine (SIGTERM: it stops its containers; SIGKILL: it just dies) and waits until it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', deadlineMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`the second dockerd did not exit within ${deadlineMs} ms`)), deadlineMs).unref(),
    );
    await Promise.race([this.exited, timer]);
    this.child = null;
  }

  /** The Debian docker client against this engine. */
  async docker(...args: string[]): Promise<string> {
    const { stdout } = await run('/usr/bin/docker', ['-H', this.host, ...args], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the engine and removes everything it had (its data root too). */
  async destroy(): Promise<void> {
    if (this.child) {
      // Its containers go with a clean stop; what is left is the data root, removed below.
      await this.docker('rm', '-f', ...(await this.docker('ps', '-aq')).split('\n').filter(Boolean)).catch(() => undefined);
      await this.stop('SIGTERM').catch(() => this.stop('SIGKILL'));
    }
    // overlay2 may leave mounts behind after a hard stop: unmount what is under the dir before removing it.
    await run('sh', ['-c', `grep -o " ${this.dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Makes `ref` in `engine`: `layers` layers of `megabytes` random bytes each
 * on `base`. Random bytes do not compress: its pull or push lasts long enough
 * to be cut in the middle.
 */
export async function buildBigImage(engine: SecondDockerd, base: string, ref: string, layers: number, megabytes: number): Promise<void> {
  const steps = Array.from({ length: layers }, (_, i) => `RUN head -c ${megabytes * 1_000_000} /dev/urandom > /blob${i}`);
  await runWithInput('/usr/bin/docker', ['-H', engine.host, 'build', '-q', '-t', ref, '-'], `FROM ${base}\n${steps.join('\n')}\n`);
}

/** buildBigImage, pushed as `ref` and removed from the engine again: there to be pulled. */
export async function pushBigImage(engine: SecondDockerd, base: string, ref: string, layers: number, megabytes: number): Promise<void> {
  await buildBigImage(engine, base, ref, layers, megabytes);
  await engine.docker('push', ref);
  await engine.docker('rmi', ref);
}

async function runWithInput(command: string, args: string[], input: string): Promise<void> {
  const child = spawn(command, args, { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-1000)}`);
}
