'use strict';
// The floors bench/scale divides Drydock's figures by, measured on the same Redis in the same
// run: BullMQ by itself (Queue.add from concurrent callers, then a Worker whose processor
// does nothing), and Redis PUBLISH to a PSUBSCRIBE pattern, which is how Drydock's job events
// travel between processes.

const { Queue, Worker } = require('bullmq');
const Redis = require('ioredis');
const { randomBytes } = require('node:crypto');
const { nowMs } = require('./drydock-jobs');

const CONNECTION = (url) => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
};

/** Runs `count` calls of `one(i)`, `concurrency` at a time; resolves with the ms it took. */
async function concurrently(count, concurrency, one) {
  let next = 0;
  const started = nowMs();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return nowMs() - started;
}

/**
 * Bare BullMQ on `redisUrl`: `count` Queue.add calls from `concurrency` callers, with a job
 * body the size of a Drydock RUN job's; then one Worker (concurrency `workerConcurrency`,
 * processor a no-op) until every job completed. Redis CPU and calls are counted per phase.
 */
async function bullmqBaseline(redis, { count, concurrency, workerConcurrency, data }) {
  const name = `bare-${randomBytes(3).toString('hex')}`;
  const queue = new Queue(name, { connection: CONNECTION(redis.url), prefix: 'bare' });
  await queue.waitUntilReady();
  await redis.resetStats();
  let cpu = redis.cpuMs();
  const addMs = await concurrently(count, concurrency, (i) => queue.add('run', { ...data, n: i }));
  const addCpuMs = redis.cpuMs() - cpu;
  const addCalls = (await redis.commandCalls()).total;
  const usedAfterAdd = await redis.usedMemory();

  await redis.resetStats();
  cpu = redis.cpuMs();
  let completed = 0;
  let worker;
  const done = new Promise((resolve) => {
    worker = new Worker(name, async () => undefined, { connection: CONNECTION(redis.url), prefix: 'bare', concurrency: workerConcurrency });
    worker.on('completed', () => {
      if (++completed === count) resolve();
    });
  });
  const started = nowMs();
  await Promise.race([done, new Promise((_, fail) => setTimeout(() => fail(new Error('bare BullMQ worker: not done in 60 s')), 60_000).unref())]);
  const workMs = nowMs() - started;
  const workCpuMs = redis.cpuMs() - cpu;
  const workCalls = (await redis.commandCalls()).total;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    addPerSecond: (count * 1000) / addMs,
    addCpuMs,
    addCalls,
    usedAfterAdd,
    completedPerSecond: (count * 1000) / workMs,
    workCpuMs,
    workCalls,
  };
}

/**
 * Redis pub/sub by itself: `publishers` connections each PUBLISHing (one at a time, as Drydock's
 * event store does after each append) messages of `bytes` to `bare:ev:<n>`, one PSUBSCRIBE
 * `bare:ev:*` connection per `subscribers` receiving them; until every subscriber got `count`.
 */
async function pubsubBaseline(redis, { count, publishers, subscribers, bytes }) {
  const payload = JSON.stringify({ sequence: 1, kind: 'LOG', message: 'x'.repeat(Math.max(0, bytes - 40)) });
  const subs = Array.from({ length: subscribers }, () => new Redis(redis.url));
  let received = 0;
  let resolveAll;
  const all = new Promise((resolve) => (resolveAll = resolve));
  for (const sub of subs) {
    sub.on('pmessage', () => {
      if (++received === count * subscribers) resolveAll();
    });
    await sub.psubscribe('bare:ev:*');
  }
  const pubs = Array.from({ length: publishers }, () => new Redis(redis.url));
  await redis.resetStats();
  const cpu = redis.cpuMs();
  const started = nowMs();
  await concurrently(count, publishers, (i) => pubs[i % publishers].publish(`bare:ev:${i % 997}`, payload));
  await Promise.race([all, new Promise((_, fail) => setTimeout(() => fail(new Error('bare pub/sub: not all received in 60 s')), 60_000).unref())]);
  const ms = nowMs() - started;
  const cpuMs = redis.cpuMs() - cpu;
  for (const client of [...subs, ...pubs]) client.disconnect();
  return { deliveredPerSecond: (received * 1000) / ms, publishedPerSecond: (count * 1000) / ms, cpuMs, payloadBytes: payload.length };
}

module.exports = { bullmqBaseline, pubsubBaseline, concurrently };
