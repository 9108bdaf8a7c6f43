'use strict';
// What a soak needs to tell a leak from a cache filling up: the V8 heap of a Drydock after a
// full garbage collection (asked over the inspector protocol, so Drydock needs no hook of its
// own), and Redis's keys grouped by pattern with their memory and, for lists and streams,
// their length.

const WebSocket = require('ws');

/** `--inspect` on this loopback port, for NODE_OPTIONS of the process to probe. */
function inspectOption(port) {
  return `--inspect=127.0.0.1:${port}`;
}

/**
 * A connection to the inspector of the process listening on `port`. heapAfterGc() runs a full
 * GC (HeapProfiler.collectGarbage) and answers process.memoryUsage() and the heap statistics.
 */
async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) })).json();
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((done, fail) => socket.once('open', done).once('error', fail));
  let nextId = 1;
  const pending = new Map();
  socket.on('message', (data) => {
    const reply = JSON.parse(String(data));
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error) waiter.fail(new Error(reply.error.message));
    else waiter.done(reply.result);
  });
  const send = (method, params = {}) =>
    new Promise((done, fail) => {
      const id = nextId++;
      pending.set(id, { done, fail });
      socket.send(JSON.stringify({ id, method, params }));
      setTimeout(() => pending.delete(id) && fail(new Error(`${method}: no answer in 60 s`)), 60_000).unref();
    });
  return {
    async heapAfterGc() {
      await send('HeapProfiler.collectGarbage');
      const { result } = await send('Runtime.evaluate', {
        expression: `JSON.stringify({ ...process.memoryUsage(), heap: require('v8').getHeapStatistics() })`,
        includeCommandLineAPI: true,
        returnByValue: true,
      });
      return JSON.parse(result.value);
    },
    close() {
      socket.terminate();
    },
  };
}

/** A key's pattern: ids, numbers and hex runs replaced, so one job's keys fall with every job's. */
function patternOf(key) {
  return key
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\b[0-9a-f]{12,}\b/g, '<hex>')
    .replace(/\b\d+\b/g, '<n>');
}

/** Every key of the Redis, grouped by pattern: count, MEMORY USAGE in bytes, and the longest list or stream. */
async function redisCensus(redis) {
  const groups = new Map();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key).type(key);
    const replies = await pipeline.exec();
    const lengths = redis.pipeline();
    const measured = [];
    keys.forEach((key, i) => {
      const bytes = Number(replies[2 * i][1] ?? 0);
      const type = replies[2 * i + 1][1];
      const group = groups.get(patternOf(key)) ?? { count: 0, bytes: 0, longest: 0, type };
      group.count++;
      group.bytes += bytes;
      groups.set(patternOf(key), group);
      const length = { stream: 'xlen', list: 'llen', zset: 'zcard' }[type];
      if (length) {
        lengths[length](key);
        measured.push(group);
      }
    });
    if (measured.length) {
      const counted = await lengths.exec();
      measured.forEach((group, i) => (group.longest = Math.max(group.longest, Number(counted[i][1] ?? 0))));
    }
  } while (cursor !== '0');
  return groups;
}

/** The `top` patterns by memory, as rows for a table. */
function censusRows(groups, top = 12) {
  return [...groups.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([pattern, g]) => [pattern, g.type, g.count, (g.bytes / 1024).toFixed(1), g.longest || '']);
}

module.exports = { inspectOption, connectInspector, redisCensus, censusRows };
