'use strict';
// A redis-server of the bench's own, on a free loopback port with a scratch directory and no
// persistence: every CPU tick and byte it uses is the bench's, so they can be divided by the
// jobs that caused them. Stopped (and its directory removed) when the bench ends, however it ends.

const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Redis = require('ioredis');
const { freePort, waitFor, sleep } = require('./common');
const { cpuMsOf, memoryOf } = require('./drydock-jobs');

const REDIS_SERVER = process.env.BENCH_REDIS_SERVER || 'redis-server';

/** Parses an INFO section into { field: value } (numbers where they are numbers). */
function parseInfo(text) {
  const fields = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at <= 0 || line.startsWith('#')) continue;
    const value = line.slice(at + 1);
    fields[line.slice(0, at)] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return fields;
}

async function startPrivateRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'drydock-bench-redis-'));
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', join(dir, 'redis.log')],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.on('exit', () => (exited = true));
  const cleanup = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  const url = `redis://127.0.0.1:${port}`;
  // The bench's own connection: INFO, CONFIG RESETSTAT, FLUSHALL. Its few calls are counted too.
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Refused connections while redis-server starts are expected: waitFor retries them.
  admin.on('error', () => undefined);
  try {
    await waitFor(`redis-server on ${port}`, async () => {
      if (exited) throw new Error('redis-server exited');
      if (admin.status !== 'ready') await admin.connect();
      return (await admin.ping()) === 'PONG';
    }, { timeoutMs: 10_000, intervalMs: 100 });
  } catch (error) {
    admin.disconnect();
    cleanup();
    throw error;
  }
  return {
    url,
    port,
    pid: child.pid,
    admin,
    cpuMs: () => cpuMsOf(child.pid),
    rss: () => memoryOf(child.pid).rss,
    async usedMemory() {
      return parseInfo(await admin.info('memory')).used_memory;
    },
    async connectedClients() {
      return parseInfo(await admin.info('clients')).connected_clients;
    },
    /** Every command's calls since the last resetStats(), summed, and the top few by calls. */
    async commandCalls() {
      const stats = parseInfo(await admin.info('commandstats'));
      const calls = Object.entries(stats)
        .map(([name, value]) => [name.replace(/^cmdstat_/, ''), Number(/calls=(\d+)/.exec(String(value))?.[1] ?? 0)])
        .sort((a, b) => b[1] - a[1]);
      return { total: calls.reduce((sum, [, n]) => sum + n, 0), top: calls };
    },
    resetStats: () => admin.config('RESETSTAT'),
    /** Keys under `prefix` and the bytes MEMORY USAGE gives them (key, value and overhead). */
    async keyBytes(prefix) {
      let cursor = '0';
      let keys = 0;
      let bytes = 0;
      do {
        const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys += batch.length;
        const sizes = await Promise.all(batch.map((key) => admin.memory('USAGE', key, 'SAMPLES', '0')));
        bytes += sizes.reduce((sum, n) => sum + Number(n ?? 0), 0);
      } while (cursor !== '0');
      return { keys, bytes };
    },
    flush: () => admin.flushall(),
    async stop() {
      admin.disconnect();
      if (!exited) child.kill('SIGTERM');
      const deadline = Date.now() + 5_000;
      while (!exited && Date.now() < deadline) await sleep(50);
      cleanup();
      process.off('exit', cleanup);
    },
  };
}

module.exports = { startPrivateRedis, parseInfo };
