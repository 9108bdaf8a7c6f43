import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './graphql';

const run = promisify(execFile);

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A Redis Cluster of a suite's own (three masters, a replica each, on free
 * ports under one temp dir), for the suites that kill its nodes: the shared
 * test Cluster of scripts/services.sh is never disturbed.
 */
export class OwnCluster {
  private readonly nodes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    readonly dir: string,
  ) {}

  static async start(): Promise<OwnCluster> {
    const ports: number[] = [];
    while (ports.length < 6) {
      // A node's cluster bus listens on its port + 10000: both must be free, and the bus port a port at all.
      const port = 20_000 + Math.floor(Math.random() * 10_000);
      if (!ports.includes(port) && (await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
    }
    const cluster = new OwnCluster(ports, mkdtempSync(join(tmpdir(), 'drydock-own-cluster-')));
    for (const port of ports) cluster.startNode(port);
    await eventually(async () => {
      await Promise.all(ports.map((port) => run('redis-cli', ['-p', String(port), 'ping'])));
      return true;
    }, 15_000, 'the cluster nodes to answer');
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes']);
    await eventually(async () => {
      const infos = await Promise.all(ports.map(async (port) => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout));
      return infos.every((info) => info.includes('cluster_state:ok')) ? true : undefined;
    }, 30_000, 'the cluster to be ok');
    // A replica not yet in sync when its master dies may never take over: wait until every link is up.
    await eventually(async () => {
      const infos = await Promise.all(ports.map(async (port) => (await run('redis-cli', ['-p', String(port), 'info', 'replication'])).stdout));
      const replicas = infos.filter((info) => info.includes('role:slave'));
      return replicas.length === 3 && replicas.every((info) => info.includes('master_link_status:up')) ? true : undefined;
    }, 30_000, 'every replica in sync with its master');
    return cluster;
  }

  /** REDIS_URL for Drydock: the masters as seeds. */
  get url(): string {
    return `redis+cluster://${this.ports
      .slice(0, 3)
      .map((port) => `127.0.0.1:${port}`)
      .join(',')}`;
  }

  private startNode(port: number): void {
    const dir = join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    // Validity factor 0: a replica takes over however long ago it last heard its master, as a
    // failover test wants (by default one whose link is older than about 30 s never tries).
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-node-timeout', '3000', '--cluster-replica-validity-factor', '0', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    this.nodes.set(port, child);
  }

  /** kill -9 of the node on `port`: no shutdown, as a machine lost. */
  async kill(port: number): Promise<void> {
    const child = this.nodes.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
