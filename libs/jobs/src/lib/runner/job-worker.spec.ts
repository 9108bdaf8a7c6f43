import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { DrydockError, ErrorCode } from '@drydock/core';
import { testRedisOptions, testRedisTarget, waitFor } from '../../testing/redis';
import { closeHarnesses, handler, harness, kinds, pullData, started, untilAborted } from '../../testing/runner-harness';
import { JobEventStore } from '../event-store';
import { JobEventKind, JobState, JobType } from '../model';
import { JobRecordStore } from '../record-store';
import { RedisOutage } from '../redis-outage';
import { FailedWithResult } from './ending';
import { type JobContext, JobQueue, JobWorker, queueNameFor } from '.';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

describe('JobWorker handlers', () => {
  it('refuses to start with a job type unhandled or handled twice', () => {
    const h = harness();
    const base = { connection: testRedisTarget(), records: h.records, events: h.events, bus: h.bus };
    expect(() => new JobWorker({ ...base, handlers: [handler(JobType.PULL), handler(JobType.PUSH)] })).toThrow(
      'no handler for BUILD, RUN',
    );
    expect(
      () =>
        new JobWorker({
          ...base,
          handlers: [
            handler(JobType.PULL),
            handler(JobType.PULL),
            handler(JobType.PUSH),
            handler(JobType.BUILD),
            handler(JobType.RUN),
          ],
        }),
    ).toThrow('two handlers for PULL jobs');
  });
});

describe('JobQueue and JobWorker', () => {
  it('runs a handler to SUCCEEDED with its events in order', async () => {
    const h = harness();
    let seen: JobContext<JobType.PULL> | undefined;
    await h.startWorker(async (ctx) => {
      seen = ctx;
      ctx.emit.log(`pulling ${ctx.data.reference}`);
      ctx.emit.progress(0.5, { id: 'layer1', status: 'Downloading', current: 5, total: 10 });
      ctx.emit.step({ index: 2, count: 4, instruction: 'RUN true' }, 'Step 2/4 : RUN true');
      return { imageId: 'sha256:abc', digest: 'sha256:def' };
    });

    const queued = await h.queue.enqueue(JobType.PULL, pullData('busybox:1'), { team: 'platform', owner: 'ana' });
    expect(queued).toMatchObject({
      state: JobState.QUEUED,
      type: JobType.PULL,
      request: { reference: 'busybox:1' },
      team: 'platform',
    });

    const events = await h.history(queued.id);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(kinds(events)).toEqual([
      'STATE QUEUED',
      'STATE RUNNING',
      'LOG',
      'PROGRESS',
      'PROGRESS',
      'RESULT',
      'STATE SUCCEEDED',
    ]);
    expect(events[4]).toMatchObject({ step: { index: 2, count: 4 }, progress: 0.25, message: 'Step 2/4 : RUN true' });
    expect(events[5]?.result).toEqual({ imageId: 'sha256:abc', digest: 'sha256:def' });

    const record = await h.records.require(queued.id);
    expect(record).toMatchObject({
      state: JobState.SUCCEEDED,
      progress: 1,
      attempts: 1,
      result: { imageId: 'sha256:abc' },
      error: null,
    });
    expect(record.startedAt).not.toBeNull();
    expect(record.finishedAt).not.toBeNull();
    expect(seen).toMatchObject({ jobId: queued.id, type: JobType.PULL, attempt: 1 });
    expect(seen?.signal.aborted).toBe(false);
  });

  it('fails once, without retry, on a non-transient DrydockError and keeps its code and message', async () => {
    const h = harness();
    let calls = 0;
    await h.startWorker(async () => {
      calls++;
      throw new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, 'unauthorized: authentication required');
    });

    const job = await h.queue.enqueue(JobType.PULL, pullData('private/app'));
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'ERROR', 'STATE FAILED']);
    expect(events[2]?.error).toEqual({
      code: 'REGISTRY_UNAUTHORIZED',
      message: 'unauthorized: authentication required',
    });
    expect(await h.records.require(job.id)).toMatchObject({
      state: JobState.FAILED,
      attempts: 1,
      error: { code: 'REGISTRY_UNAUTHORIZED', message: 'unauthorized: authentication required' },
    });
    // BullMQ holds it as failed for good, not delayed for another attempt.
    await waitFor('BullMQ to fail the job', async () => (await h.bullState(job.id)) === 'failed');
    expect(calls).toBe(1);
  });

  it('ends FAILED with the outcome as data (container and exit code) as well as the error when the handler has one', async () => {
    const h = harness();
    await h.startWorker(async () => {
      throw new FailedWithResult(ErrorCode.RUN_FAILED, 'container abc exited with code 3', { containerId: 'abc', exitCode: 3 });
    });
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'RESULT', 'ERROR', 'STATE FAILED']);
    expect(await h.records.require(job.id)).toMatchObject({
      state: JobState.FAILED,
      result: { containerId: 'abc', exitCode: 3 },
      error: { code: 'RUN_FAILED', message: 'container abc exited with code 3' },
    });
  });

  it('stops a running job once Redis has been unreachable past the grace period, and ends it FAILED REDIS_UNAVAILABLE, never retried', async () => {
    const h = harness();
    let clock = 0;
    const outage = new RedisOutage(1_000, () => clock);
    let calls = 0;
    const running = started();
    await h.startWorker(
      async ({ signal }) => {
        calls++;
        running.signal();
        return untilAborted(signal);
      },
      { outage },
    );
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    await running.wait;
    outage.markUnreachable();
    clock = 2_000;
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'ERROR', 'STATE FAILED']);
    const record = await h.records.require(job.id);
    expect(record.error?.code).toBe('REDIS_UNAVAILABLE');
    expect(record.error?.message).toBe('Redis was unreachable for more than 1 s; the job was stopped');
    await waitFor('BullMQ to fail the job', async () => (await h.bullState(job.id)) === 'failed');
    expect(calls).toBe(1);
  });

  it('classifies a client library\'s connection error as REDIS_UNAVAILABLE without its message', async () => {
    const h = harness();
    await h.startWorker(async () => {
      throw Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' });
    });
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    await h.history(job.id);
    const record = await h.records.require(job.id);
    expect(record.error?.code).toBe('REDIS_UNAVAILABLE');
    expect(record.error?.message).not.toMatch(/max retries/i);
  });

  it('retries a transient failure with backoff and says so', async () => {
    const h = harness();
    const attempts: number[] = [];
    await h.startWorker(async (ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt === 1)
        throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, 'connect ENOENT /var/run/docker.sock');
      return { imageId: 'sha256:abc' };
    });

    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'LOG', 'LOG', 'RESULT', 'STATE SUCCEEDED']);
    expect(events[2]?.message).toMatch(
      /^Attempt 1 of 3 failed \(ENGINE_UNAVAILABLE: connect ENOENT .*\); retrying in 10 ms$/,
    );
    expect(events[3]?.message).toBe('Attempt 2 of 3');
    expect(attempts).toEqual([1, 2]);
    expect(await h.records.require(job.id)).toMatchObject({ state: JobState.SUCCEEDED, attempts: 2 });
  });

  it('fails with the transient code once the attempts are used up', async () => {
    const h = harness({ attempts: 2 });
    await h.startWorker(async () => {
      throw new DrydockError(ErrorCode.REGISTRY_UNREACHABLE, 'dial tcp 10.0.0.1:443: i/o timeout');
    });

    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'LOG', 'LOG', 'ERROR', 'STATE FAILED']);
    expect(await h.records.require(job.id)).toMatchObject({
      state: JobState.FAILED,
      attempts: 2,
      error: { code: 'REGISTRY_UNREACHABLE', message: 'dial tcp 10.0.0.1:443: i/o timeout' },
    });
  });

  it('cancels a running job from another process by aborting its signal', async () => {
    const h = harness();
    const running = started();
    let signal: AbortSignal | undefined;
    await h.startWorker(async (ctx) => {
      signal = ctx.signal;
      ctx.emit.log('working');
      running.signal();
      return untilAborted(ctx.signal);
    });
    const job = await h.queue.enqueue(JobType.PULL, pullData('long'));
    await running.wait;

    // The API of another process: its own connection and queue, no shared memory with the worker.
    const api = harness();
    const otherRecords = new JobRecordStore(api.redis, { prefix: h.prefix });
    const otherEvents = new JobEventStore(api.redis, { prefix: h.prefix });
    const otherQueue = new JobQueue({ connection: testRedisTarget(), records: otherRecords, events: otherEvents });
    try {
      const cancelled = await otherQueue.cancel(job.id);
      expect(cancelled.state).toBe(JobState.CANCELLED);
    } finally {
      await otherQueue.close();
    }
    expect(signal?.aborted).toBe(true);
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'LOG', 'STATE CANCELLED']);
  });

  it('throttles progress but keeps every LOG event, in order', async () => {
    const h = harness();
    await h.startWorker(
      async (ctx) => {
        for (let i = 1; i <= 1000; i++) {
          ctx.emit.progress(i / 1000, { id: 'layer', status: 'Downloading', current: i, total: 1000 });
          if (i % 100 === 0) ctx.emit.log(`line ${i}`);
        }
        return {};
      },
      { progressIntervalMs: 60_000 },
    );

    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    const events = await h.history(job.id);
    const logs = events.filter((e) => e.kind === JobEventKind.LOG).map((e) => e.message);
    expect(logs).toEqual(Array.from({ length: 10 }, (_, i) => `line ${(i + 1) * 100}`));

    const progress = events.filter((e) => e.kind === JobEventKind.PROGRESS).map((e) => e.progress ?? -1);
    // The first update (a new layer status) plus at most the one pending before each log line.
    expect(progress.length).toBeLessThanOrEqual(11);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // The last update is flushed before the job ends.
    expect(progress[progress.length - 1]).toBe(1);
    expect(kinds(events).slice(-1)).toEqual(['STATE SUCCEEDED']);
  });

  it('emits at most about one progress event per interval', async () => {
    const h = harness();
    await h.startWorker(
      async (ctx) => {
        const end = Date.now() + 500;
        for (let i = 0; Date.now() < end; i++) {
          ctx.emit.progress(Math.min(i / 1000, 1));
          await new Promise((resolve) => setImmediate(resolve));
        }
        return {};
      },
      { progressIntervalMs: 100 },
    );
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    const progress = (await h.history(job.id)).filter((e) => e.kind === JobEventKind.PROGRESS);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.length).toBeLessThanOrEqual(8);
  });

  it('on close, aborts jobs still running at the deadline so another worker retries them', async () => {
    const h = harness({ attempts: 2 });
    const running = started();
    const first = await h.startWorker(async (ctx) => {
      running.signal();
      return untilAborted(ctx.signal);
    });
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));
    await running.wait;

    await first.close(100);
    expect((await h.records.require(job.id)).state).toBe(JobState.RUNNING);

    await h.startWorker(async () => ({ imageId: 'sha256:second' }));
    const events = await h.history(job.id);
    expect(kinds(events)).toEqual(['STATE QUEUED', 'STATE RUNNING', 'LOG', 'LOG', 'RESULT', 'STATE SUCCEEDED']);
    expect(events[2]?.message).toMatch(/^Attempt 1 of 2 failed \(WORKER_LOST: worker shutting down/);
  });

  it('fails a job WORKER_LOST when its worker is killed and it stalls too often', async () => {
    const h = harness({ attempts: 1 });
    const job = await h.queue.enqueue(JobType.PULL, pullData('busybox'));

    // A worker in another process takes the job and dies holding it.
    const { host, port } = testRedisOptions();
    const script = `
      const { Worker } = require(${JSON.stringify(require.resolve('bullmq'))});
      const worker = new Worker(${JSON.stringify(queueNameFor(JobType.PULL))}, () => new Promise(() => {}), {
        connection: { host: ${JSON.stringify(host)}, port: ${port} },
        prefix: ${JSON.stringify(h.records.keys.bullPrefix)},
        lockDuration: 1000,
        stalledInterval: 300,
      });
      worker.on('active', () => console.log('active'));
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    await waitFor('the other worker to take the job', () => output.includes('active'), 15_000);
    child.kill('SIGKILL');
    await exited;

    let ran = false;
    await h.startWorker(
      async () => {
        ran = true;
        return {};
      },
      { lockDurationMs: 1000, stalledIntervalMs: 300, maxStalledCount: 0 },
    );
    const events = await h.history(job.id);
    expect(kinds(events).slice(-2)).toEqual(['ERROR', 'STATE FAILED']);
    expect(events.find((e) => e.kind === JobEventKind.ERROR)?.error?.code).toBe('WORKER_LOST');
    expect(await h.records.require(job.id)).toMatchObject({ state: JobState.FAILED, error: { code: 'WORKER_LOST' } });
    expect(ran).toBe(false);
  });
});
