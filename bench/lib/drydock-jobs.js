'use strict';
const { spawn } = require('node:child_process');
// Helpers of the job benches (bench/build, bench/events): Drydock started with extra
// settings, tar contexts made as streams, the build endpoint, the job's events over SSE
// and graphql-ws, the engine's own build endpoint, and RSS sampling from /proc.
// Loopback only, and every wait is bounded.

const { createHash, randomBytes } = require('node:crypto');
const { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } = require('node:fs');
const http = require('node:http');
const { tmpdir } = require('node:os');
const { join, relative, resolve } = require('node:path');
const { once } = require('node:events');
const { pack } = require('tar-stream');
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');
const Redis = require('ioredis');
const { REDIS_URL, ROOT, engineTarget, nowMs, startServer } = require('./common');
const { buildStreamReader } = require('./buildkit-trace');
const { cpuMsOf } = require('./cpu-split');

const DRYDOCK_MAIN = resolve(process.env.BENCH_DRYDOCK_MAIN || join(ROOT, 'dist/apps/api/main.js'));
const FIXTURE = process.env.E2E_FIXTURE || 'localhost:5001/drydock-fixture/busybox:1';
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const MIB = 1024 * 1024;

// Data directories of the Drydocks started here: gone when this process ends, however it ends.
const dataDirs = new Set();
process.on('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The built Drydock on a free loopback port, as common.startDrydock starts it, plus `env`
 * (the job benches need the mutation rate limit off, and a context cap). Its data directory
 * (where build contexts are spooled) is a temp folder, and its Redis keys are dropped at stop.
 */
async function startDrydockWith(env = {}) {
  if (!existsSync(DRYDOCK_MAIN)) throw new Error(`${DRYDOCK_MAIN} is missing: run \`npx nx build api\` (or \`make bench\`)`);
  const token = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-bench-jobs-'));
  dataDirs.add(dataDir);
  const tokensFile = join(dataDir, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify([{ name: 'bench', team: 'bench', role: 'admin', namespaces: ['**'], tokenSha256: createHash('sha256').update(token).digest('hex') }]),
    { mode: 0o600 },
  );
  const keyPrefix = `bench-${randomBytes(4).toString('hex')}`;
  let server;
  try {
    server = await startServer(
      'drydock',
      DRYDOCK_MAIN,
      [],
      {
        NODE_ENV: process.env.BENCH_NODE_ENV ?? 'production',
        REDIS_URL,
        LOG_LEVEL: 'warn',
        DRYDOCK_DATA_DIR: dataDir,
        DRYDOCK_TOKENS_FILE: tokensFile,
        DRYDOCK_KEY_PREFIX: keyPrefix,
        DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
        DRYDOCK_JOB_RETENTION_SECONDS: '3600',
        ...env,
      },
      '/health/ready',
    );
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
    throw error;
  }
  const authorization = `Bearer ${token}`;
  return {
    ...server,
    main: DRYDOCK_MAIN,
    dataDir,
    keyPrefix,
    authorization,
    headers: { authorization },
    wsUrl: `${server.url.replace(/^http/, 'ws')}/graphql`,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
      await dropRedisKeys(keyPrefix).catch((error) => console.error(`(could not drop Redis keys ${keyPrefix}:*: ${error.message})`));
    },
  };
}

// Drydock's keys are `{prefix}:…`: the prefix is a Redis Cluster hash tag.
async function dropRedisKeys(prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * A tar stream of every file under `dir` (names relative to it), each file streamed from disk
 * as the reader takes it: a 1 GiB file never sits in this process's memory.
 */
function packDir(dir) {
  const tar = pack();
  const files = [];
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk(dir);
  // BuildKit's walk order (a directory's entries by name, a directory right before what it holds), so that
  // a build may be sent with contextOrder=sorted.
  const order = (path) => Buffer.from(relative(dir, path).replaceAll('/', '\0'));
  files.sort((a, b) => Buffer.compare(order(a), order(b)));
  (async () => {
    for (const path of files) {
      const stats = statSync(path);
      await new Promise((done, fail) => {
        const entry = tar.entry({ name: relative(dir, path), mode: stats.mode & 0o777, size: stats.size }, (e) => (e ? fail(e) : done()));
        const source = createReadStream(path);
        source.on('error', (e) => entry.destroy(e));
        source.pipe(entry);
      });
    }
    tar.finalize();
  })().catch((error) => tar.destroy(error));
  return tar;
}

/** A tar stream of small in-memory files. */
function packFiles(files) {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o644 }, content);
  tar.finalize();
  return tar;
}

/**
 * A tar stream with the small `files` and one `bigName` entry of `bigBytes` zero bytes,
 * written 1 MiB at a time as the reader takes them: never more than a few MiB in memory.
 */
function packZeroContext(files, bigName, bigBytes) {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name, mode: 0o644 }, content);
  const chunk = Buffer.alloc(MIB);
  (async () => {
    let failure = null;
    const entry = tar.entry({ name: bigName, mode: 0o644, size: bigBytes }, (error) => {
      if (error) failure = error;
    });
    for (let left = bigBytes; left > 0; left -= chunk.length) {
      if (failure) throw failure;
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      if (!entry.write(piece)) await once(entry, 'drain');
    }
    entry.end();
    tar.finalize();
  })().catch((error) => tar.destroy(error));
  return tar;
}

/** Free bytes for an unprivileged writer on the filesystem holding `path`. */
function freeBytes(path) {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

/**
 * `POST /v1/builds` with a tar body streamed from `body`; resolves with the status, the
 * parsed answer and when the answer came (ms, nowMs clock).
 */
function postBuild(drydock, query, body, { timeoutMs = 600_000 } = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const url = new URL(`${drydock.url}/v1/builds?${search}`);
  return new Promise((done, fail) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { ...drydock.headers, 'content-type': 'application/x-tar', 'transfer-encoding': 'chunked' } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece) => (text += piece));
        response.on('end', () => {
          const at = nowMs();
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            // Not JSON: reported below.
          }
          if (response.statusCode !== 202 || !json?.id) fail(new Error(`POST /v1/builds: ${response.statusCode} ${text.slice(0, 500)}`));
          else done({ status: response.statusCode, job: json, at });
        });
        response.on('error', fail);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`POST /v1/builds: no answer in ${timeoutMs} ms`)));
    request.on('error', fail);
    body.on('error', (error) => request.destroy(error));
    body.pipe(request);
  });
}

/**
 * `POST /v1/builds` as the README's curl example sends a directory: `tar --sort=name` piped
 * into `curl -T -` (chunked, streamed), so no Node process relays the bytes; resolves as
 * postBuild does.
 */
function postBuildCurl(drydock, query, dir, { timeoutMs = 600_000 } = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const url = `${drydock.url}/v1/builds?${search}`;
  const script = 'set -o pipefail; tar -C "$1" --sort=name -cf - . | curl -sS -X POST -T - --max-time "$2" -H "$3" -H "content-type: application/x-tar" -w "\n%{http_code}" "$4"';
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script, 'post', dir, String(Math.ceil(timeoutMs / 1000)), `authorization: ${drydock.headers.authorization}`, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (piece) => (out += piece));
    child.stderr.setEncoding('utf8').on('data', (piece) => (err += piece));
    child.on('error', fail);
    child.on('close', (code) => {
      const at = nowMs();
      const lines = out.trimEnd().split('\n');
      const status = Number(lines.pop());
      let json = null;
      try {
        json = JSON.parse(lines.join('\n'));
      } catch {
        // Not JSON: reported below.
      }
      if (code !== 0 || status !== 202 || !json?.id) fail(new Error(`tar | curl POST /v1/builds: exit ${code}, ${status} ${out.slice(0, 500)} ${err.slice(0, 500)}`));
      else done({ status, job: json, at });
    });
  });
}

/**
 * Reads `GET /v1/jobs/{id}/events` until the terminal STATE event (the server closes the
 * stream after it). `onEvent(event, receivedAtMs)` sees each event as it arrives.
 */
async function sseUntilTerminal(drydock, jobId, { onEvent = () => undefined, timeoutMs = 600_000 } = {}) {
  const response = await fetch(`${drydock.url}/v1/jobs/${jobId}/events`, {
    headers: { ...drydock.headers, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`GET /v1/jobs/${jobId}/events: ${response.status} ${await response.text()}`);
  const decoder = new TextDecoder();
  let pending = '';
  let terminal = null;
  for await (const bytes of response.body) {
    const at = nowMs();
    pending += decoder.decode(bytes, { stream: true });
    for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (!data) continue;
      const event = JSON.parse(data);
      if (event.code && event.sequence === undefined) throw new Error(`SSE error event: ${data}`);
      onEvent(event, at);
      if (event.kind === 'STATE' && TERMINAL.has(event.state)) terminal = { event, at };
    }
    if (terminal) break;
  }
  if (!terminal) throw new Error(`job ${jobId}: the event stream ended without a terminal event`);
  return terminal;
}

/** One graphql-ws client on its own socket, authenticated in connectionParams. */
function wsClient(drydock) {
  return createClient({
    url: drydock.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: drydock.authorization },
    retryAttempts: 0,
    lazy: true,
  });
}

/**
 * Subscribes to `jobEvents(jobId)` and calls `onEvent(event, receivedAtMs)` for each, until the
 * server completes the subscription (after the terminal event) or `timeoutMs` passes.
 */
function subscribeJobEvents(client, jobId, fields, onEvent, { timeoutMs = 600_000 } = {}) {
  const query = `subscription($id: ID!) { jobEvents(jobId: $id) { ${fields} } }`;
  return new Promise((done, fail) => {
    let unsubscribe = () => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      fail(new Error(`jobEvents(${jobId}): not complete within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error) => {
      clearTimeout(timer);
      if (error) fail(error);
      else done();
    };
    unsubscribe = client.subscribe(
      { query, variables: { id: jobId } },
      {
        next: (result) => {
          const at = nowMs();
          if (result.errors?.length) {
            unsubscribe();
            finish(new Error(`jobEvents: ${JSON.stringify(result.errors)}`));
            return;
          }
          onEvent(result.data.jobEvents, at);
        },
        error: (error) => finish(error instanceof Error ? error : new Error(`jobEvents: ${JSON.stringify(error?.reason ?? error)}`)),
        complete: () => finish(),
      },
    );
  });
}

/**
 * `POST /build` on the engine itself, with a tar body: the classic builder, or BuildKit with
 * `version: '2'` in `query` (no session: the tar is the context); `onLine(line, receivedAtMs)`
 * for each output line of the build's steps (classic: the `stream` messages; BuildKit: the
 * logs of its `moby.buildkit.trace` messages, without the `#N ` Drydock puts in front).
 * Resolves with the image id; rejects on an error inside the stream.
 */
function engineBuild(body, query, onLine, { timeoutMs = 600_000 } = {}) {
  // Without a reader the trace is not decoded: bench/build's floor pays no protobuf work.
  const readTrace = typeof onLine === 'function';
  onLine ??= () => undefined;
  const engine = engineTarget();
  const path = `/v1.41/build?${new URLSearchParams({ rm: '1', forcerm: '1', ...query })}`;
  const where = engine.socketPath ? { socketPath: engine.socketPath, path } : urlOptions(new URL(engine.base + path));
  return new Promise((done, fail) => {
    const request = http.request({ ...where, method: 'POST', headers: { 'content-type': 'application/x-tar' } }, (response) => {
      const reader = buildStreamReader(onLine, { readTrace });
      response.setEncoding('utf8');
      response.on('data', (piece) => reader.write(piece, nowMs()));
      response.on('end', () => {
        const { imageId, error, rest } = reader.end(nowMs());
        if (response.statusCode !== 200) fail(new Error(`engine POST /build: ${response.statusCode} ${rest.slice(0, 500)}`));
        else if (error) fail(new Error(`engine build failed: ${error}`));
        else done(imageId);
      });
      response.on('error', fail);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`engine POST /build: not done in ${timeoutMs} ms`)));
    request.on('error', fail);
    body.on('error', (e) => request.destroy(e));
    body.pipe(request);
  });
}

function urlOptions(url) {
  return { host: url.hostname, port: url.port, path: url.pathname + url.search };
}

/** VmRSS and VmHWM of a process, in bytes, from /proc/<pid>/status. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples VmRSS of `pid` every `intervalMs` until stop(); stop() returns the samples. */
function sampleRss(pid, intervalMs = 50) {
  const samples = [];
  const take = () => {
    try {
      samples.push({ at: nowMs(), rss: memoryOf(pid).rss });
    } catch {
      // The process is gone: nothing to sample.
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Median of the process's VmRSS over `ms`, sampled every 50 ms: its idle footprint. */
async function idleRss(pid, ms = 2_000) {
  const sampler = sampleRss(pid, 50);
  await new Promise((done) => setTimeout(done, ms));
  return median(sampler.stop().map((s) => s.rss));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const mib = (bytes) => (bytes / MIB).toFixed(1);

module.exports = {
  postBuildCurl,
  DRYDOCK_MAIN,
  FIXTURE,
  MIB,
  TERMINAL,
  nowMs,
  startDrydockWith,
  packDir,
  packFiles,
  packZeroContext,
  freeBytes,
  postBuild,
  sseUntilTerminal,
  wsClient,
  subscribeJobEvents,
  engineBuild,
  cpuMsOf,
  memoryOf,
  sampleRss,
  idleRss,
  percentile,
  median,
  mib,
};
