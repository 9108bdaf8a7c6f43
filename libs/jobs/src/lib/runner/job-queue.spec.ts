import { ErrorCode } from '@drydock/core';
import { JobState, JobType } from '../model';
import { buildData, closeHarnesses, harness, kinds, pullData, pushData, started } from '../../testing/runner-harness';
import type { JobHandler } from './handler';
import type { JobQueue } from './job-queue';
import { queueNameFor } from './queue-name';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

describe('JobQueue', () => {
  it('cancels a queued job so that it never starts', async () => {
    const h = harness();
    const ran: string[] = [];
    const job = await h.queue.enqueue(JobType.PULL, pullData('cancel-me'));

    const cancelled = await h.queue.cancel(job.id);
    expect(cancelled).toMatchObject({ state: JobState.CANCELLED });
    expect(cancelled.finishedAt).not.toBeNull();
    expect(kinds(await h.history(job.id))).toEqual(['STATE QUEUED', 'STATE CANCELLED']);
    // Idempotent for the cancelled job; a conflict for one that ended otherwise.
    await expect(h.queue.cancel(job.id)).resolves.toMatchObject({ state: JobState.CANCELLED });

    // A worker started now runs the next job, and never the cancelled one.
    await h.startWorker(async (ctx) => {
      ran.push(ctx.data.reference);
      return {};
    });
    const next = await h.queue.enqueue(JobType.PULL, pullData('after'));
    await h.history(next.id);
    expect(ran).toEqual(['after']);
    await expect(h.queue.cancel(next.id)).rejects.toMatchObject({ code: ErrorCode.JOB_FINISHED });
  });

  it('answers a repeated Idempotency-Key with the same job and shares identical work in flight', async () => {
    const h = harness();
    const running = started();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await h.startWorker(async () => {
      running.signal();
      await held;
      return {};
    });

    const first = await h.queue.enqueue(JobType.PULL, pullData('busybox'),
      { idempotencyKey: 'ana:k1', dedupKey: 'pull busybox' },
    );
    const again = await h.queue.enqueue(JobType.PULL, pullData('busybox'), { idempotencyKey: 'ana:k1' });
    expect(again.id).toBe(first.id);
    await running.wait;
    const shared = await h.queue.enqueue(JobType.PULL, pullData('busybox'), { dedupKey: 'pull busybox' });
    expect(shared.id).toBe(first.id);

    release();
    await h.history(first.id);
    // Ended: the dedup key is free again, the idempotency key still answers with the finished job.
    const fresh = await h.queue.enqueue(JobType.PULL, pullData('busybox'), { dedupKey: 'pull busybox' });
    expect(fresh.id).not.toBe(first.id);
    expect((await h.queue.enqueue(JobType.PULL, pullData('busybox'), { idempotencyKey: 'ana:k1' })).state).toBe(JobState.SUCCEEDED);
    await h.history(fresh.id);
  });

  it('scopes an idempotency key to its caller and job type', async () => {
    const h = harness();
    const a = await h.queue.enqueue(JobType.BUILD, buildData(), { idempotencyKey: 'k', team: 'team-a', owner: 'ana' });
    expect((await h.queue.enqueue(JobType.BUILD, buildData(), { idempotencyKey: 'k', team: 'team-a', owner: 'ana' })).id).toBe(a.id);
    const otherTeam = await h.queue.enqueue(JobType.BUILD, buildData(), { idempotencyKey: 'k', team: 'team-b', owner: 'bob' });
    const otherType = await h.queue.enqueue(JobType.PUSH, pushData(), { idempotencyKey: 'k', team: 'team-a', owner: 'ana' });
    expect(new Set([a.id, otherTeam.id, otherType.id]).size).toBe(3);
    for (const job of [a, otherTeam, otherType]) await h.queue.cancel(job.id);
  });

  it('counts each queue\'s waiting jobs by type, every queue listed even at zero', async () => {
    const h = harness();
    const jobs = [
      await h.queue.enqueue(JobType.PULL, pullData('one')),
      await h.queue.enqueue(JobType.PULL, pullData('two')),
      await h.queue.enqueue(JobType.BUILD, buildData()),
    ];
    const counts = await h.queue.waitingCounts();
    const waiting = Object.fromEntries(counts.map((count) => [`${count.type}@${count.engine}`, count.waiting]));
    expect(waiting).toEqual({ 'BUILD@default': 1, 'RUN@default': 0, 'PULL@default': 2, 'PUSH@default': 0, 'EXPORT@default': 0 });
    for (const job of jobs) await h.queue.cancel(job.id);
    expect((await h.queue.waitingCounts()).every((count) => count.waiting === 0)).toBe(true);
  });
});

describe('the job contract', () => {
  it('does not compile a job queued with another type\'s data, nor a handler that returns another type\'s result', () => {
    // Never called: the compiler (ts-jest, nx typecheck) is the assertion, through the @ts-expect-error lines.
    const wrongUses = (queue: JobQueue) => {
      // @ts-expect-error a build's data is not a pull's
      void queue.enqueue(JobType.PULL, buildData());
      const pull: JobHandler<JobType.PULL> = {
        type: JobType.PULL,
        // @ts-expect-error a pull ends with an image, not a container
        handle: async () => ({ containerId: 'c', exitCode: 0 }),
      };
      return pull;
    };
    expect(typeof wrongUses).toBe('function');
  });

  it("keeps BullMQ's own event stream of a queue short, since nothing reads it, instead of 10,000 entries", async () => {
    const h = harness({ bullEventsMaxLen: 20 });
    for (let i = 0; i < 300; i++) await h.queue.enqueue(JobType.PULL, pullData(`many-${i}`));
    const stream = `${h.records.keys.bullPrefix}:${queueNameFor(JobType.PULL)}:events`;
    // Trimmed approximately (whole stream nodes of 100 entries), never to the 300 jobs' worth.
    expect(await h.redis.xlen(stream)).toBeLessThan(200);
  });
});
