'use strict';
// Helpers shared by the benches: the engine, Drydock as a child process, autocannon runs.
// Loopback only, and every wait is bounded.

const autocannon = require('autocannon');
const { execFileSync, spawn } = require('node:child_process');
const { randomBytes, createHash } = require('node:crypto');
const { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const net = require('node:net');
const { loadavg, tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = resolve(__dirname, '..', '..');
// BENCH_DRYDOCK_MAIN: another build to measure (a worktree's, or the Docker image's layout).
const DRYDOCK_MAIN = resolve(process.env.BENCH_DRYDOCK_MAIN || join(ROOT, 'dist/apps/api/main.js'));
// Debian's client: /usr/local/bin may hold a newer one that defaults to BuildKit.
const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const DURATION = positive('BENCH_DURATION', 10);
const WARMUP = positive('BENCH_WARMUP', 3);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 16);
// The Redis of `scripts/services.sh test`, unless REDIS_URL names another.
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6391';

/** Wall-clock time in ms with sub-ms resolution (CLOCK_REALTIME at start, then monotonic). */
const nowMs = () => performance.timeOrigin + performance.now();

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return value;
}

function docker(args, options = {}) {
  return execFileSync(DOCKER_CLI, args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
    ...options,
  }).trim();
}

/** The engine's address as autocannon wants it: a unix socket path, or a TCP base URL. */
function engineTarget() {
  const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { base: 'http://localhost', socketPath: host.slice('unix://'.length) };
  if (/^tcp:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(host)) return { base: host.replace(/^tcp:/, 'http:') };
  throw new Error(`DOCKER_HOST=${host}: the benches only talk to a local engine`);
}

function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Servers this process started and their scratch directories; none may outlive it, however it ends.
const children = new Set();
const scratchDirs = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `drydock-bench-${name}-`));
  scratchDirs.add(dir);
  return dir;
}

function removeScratch(dir) {
  rmSync(dir, { recursive: true, force: true });
  scratchDirs.delete(dir);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(130);
  });
}

/** Polls `probe` until it returns a truthy value, for at most `timeoutMs`. */
async function waitFor(what, probe, { timeoutMs = 60_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/**
 * Starts a Node server script as a child process and waits for `readyPath` to answer 200.
 * The child runs in a scratch directory, so nothing it writes lands in the source tree.
 */
async function startServer(name, script, args, env, readyPath) {
  const port = await freePort();
  const scratch = scratchDir(name);
  const logFile = join(scratch, 'server.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [script, ...args], {
    cwd: scratch,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  children.add(child);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline) await sleep(50);
      if (!exited) child.kill('SIGKILL');
    }
    removeScratch(scratch);
  };
  try {
    await waitFor(`${name} ready at ${url}${readyPath}`, async () => {
      if (exited) throw new Error(`${name} exited (${exited.code ?? exited.signal}):\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
      const response = await fetch(url + readyPath, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status === 200;
    }).catch((error) => {
      throw exited ? new Error(`${name} exited (${exited.code ?? exited.signal}):\n${readFileSync(logFile, 'utf8').slice(-4000)}`) : error;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid, scratch, stop };
}

/**
 * Starts the built Drydock (dist/apps/api/main.js) on a free loopback port with its own
 * data directory, Redis key prefix and admin token; resolves once /health/ready says 200.
 */
async function startDrydock() {
  if (!existsSync(DRYDOCK_MAIN)) throw new Error(`${DRYDOCK_MAIN} is missing: run \`npx nx build api\` (or \`make bench\`)`);
  const token = randomBytes(24).toString('hex');
  const dataDir = scratchDir('data');
  const tokensFile = join(dataDir, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify([{ name: 'bench', team: 'bench', role: 'admin', namespaces: ['**'], tokenSha256: createHash('sha256').update(token).digest('hex') }]),
  );
  const server = await startServer(
    'drydock',
    DRYDOCK_MAIN,
    [],
    {
      // As the Docker image runs it: graphql-js, among others, checks less in production.
      NODE_ENV: process.env.BENCH_NODE_ENV ?? 'production',
      REDIS_URL,
      LOG_LEVEL: 'warn',
      DRYDOCK_DATA_DIR: dataDir,
      DRYDOCK_TOKENS_FILE: tokensFile,
      DRYDOCK_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
    },
    '/health/ready',
  );
  return {
    ...server,
    main: DRYDOCK_MAIN,
    headers: { authorization: `Bearer ${token}` },
    stop: async () => {
      await server.stop();
      removeScratch(dataDir);
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function runCannon(options, onResponse) {
  return new Promise((done, fail) => {
    const instance = autocannon(options, (error, result) => (error ? fail(error) : done(result)));
    if (onResponse) instance.on('response', onResponse);
  });
}

/**
 * One load run: a short warm-up, then `DURATION` seconds at `CONNECTIONS` connections.
 * Latencies are taken from every response at sub-millisecond precision (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for a cached answer).
 */
async function measure(label, options) {
  const base = { connections: CONNECTIONS, timeout: 30, ...options };
  await runCannon({ ...base, duration: WARMUP });
  const latencies = [];
  const started = process.hrtime.bigint();
  const result = await runCannon({ ...base, duration: DURATION }, (_client, _status, _bytes, ms) => latencies.push(ms));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const failures = result.errors + result.timeouts + result.non2xx;
  return {
    label,
    requests: result.requests.total,
    rps: result.requests.total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    bytesPerResponse: result.requests.total ? Math.round(result.throughput.total / result.requests.total) : 0,
    failures,
    // The machine's 1-minute load average at the end: a busy neighbour shows here.
    load: loadavg()[0],
  };
}

const fixed = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));

function printTable(rows) {
  const extra = rows.some((r) => r.engineEvents !== undefined);
  const header = ['', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'bytes/resp', 'failed', 'load', ...(extra ? ['engine events'] : [])];
  const lines = rows.map((r) => [
    r.label,
    fixed(r.rps, 0),
    fixed(r.p50),
    fixed(r.p99),
    fixed(r.max),
    String(r.bytesPerResponse),
    String(r.failures),
    fixed(r.load, 1),
    ...(extra ? [String(r.engineEvents ?? '')] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

module.exports = {
  ROOT,
  REDIS_URL,
  nowMs,
  positive,
  DURATION,
  WARMUP,
  CONNECTIONS,
  docker,
  engineTarget,
  sleep,
  waitFor,
  freePort,
  startServer,
  startDrydock,
  measure,
  printTable,
  fixed,
};
