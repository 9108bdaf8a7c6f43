import { JOB_TYPES } from '../model';
import { testRedisTarget } from '../../testing/redis';
import { closeHarnesses, handler, harness } from '../../testing/runner-harness';
import { JobQueue } from './job-queue';
import { JobWorker } from './job-worker';

jest.setTimeout(30_000);

afterEach(closeHarnesses);

describe('closing BullMQ queues and workers', () => {
  it('closes queues and workers made a moment ago without an unhandled error (taskforcesh/bullmq#3546)', async () => {
    // Jest fails the test on the unhandled 'error' a BullMQ connection closed mid-start emitted.
    const h = harness();
    const stores = { connection: testRedisTarget(), records: h.records, events: h.events };
    for (let round = 0; round < 20; round++) {
      const queue = new JobQueue(stores);
      const worker = new JobWorker({ ...stores, bus: h.bus, handlers: JOB_TYPES.map((type) => handler(type)) });
      await Promise.all([queue.close(), worker.close(1000)]);
    }
    // A failed start surfaces when its socket's close event runs, after close() resolved: the
    // only way to see that none comes is to give them that moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
});
