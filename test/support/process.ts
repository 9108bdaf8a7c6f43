import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { eventually } from './graphql';
import { testEnv } from './env';

export const MAIN = join(__dirname, '../../dist/apps/api/main.js');

export interface DrydockProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A suite that fails half-way through its set-up may never stop the processes it
 * started. They must not keep Jest (and so `make test`) from exiting: their handles
 * are unref'd, and Jest's global teardown (teardown.ts) kills what still runs.
 */
function leftBehind(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
}

/**
 * Starts the built Drydock (`dist/apps/api/main.js`, as `make run` does) in its
 * own process, in the given role, and waits until it is ready: it answers
 * health (a worker too) and, if it is a worker, takes jobs.
 */
export async function startProcess(role: 'all' | 'api' | 'worker', env: Record<string, string>): Promise<DrydockProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx nx build api\` (make test does)`);
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, REDIS_URL: testEnv.redisUrl, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', DRYDOCK_ROLE: role, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  leftBehind(child);
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`drydock ${role} exited early:\n${output.slice(-2000)}`);
      // A worker process is ready once it takes jobs; every role answers health (`all` even with Redis away).
      if (role === 'worker' && !output.includes('worker ready')) return undefined;
      try {
        return (await fetch(`${url}/health/live`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
    `drydock ${role} to start`,
  );
  return { child, url, output: () => output, exited };
}
