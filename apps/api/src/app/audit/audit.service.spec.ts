import type Redis from 'ioredis';
import type { AppConfig } from '../config/config';
import { AUDIT_WAIT_MS, AuditLog } from './audit.service';

/** A Redis whose MULTI ... EXEC answers when the test says so. */
function slowRedis(): { redis: Redis; answer: () => void; writes: () => number } {
  const waiting: Array<() => void> = [];
  let writes = 0;
  const chain = {
    xadd: () => chain,
    xtrim: () => chain,
    exec: () => new Promise<void>((resolve) => waiting.push(() => ((writes += 1), resolve()))),
  };
  return { redis: { multi: () => chain } as unknown as Redis, answer: () => waiting.splice(0).forEach((go) => go()), writes: () => writes };
}

const config = { keyPrefix: 't', auditRetentionSeconds: 60, auditMaxEntries: 100 } as AppConfig;
const entry = { principal: { name: 'n', team: 't', role: 'admin' as const }, action: 'POST /x', target: '', outcome: 'ok' };

describe('AuditLog.record', () => {
  afterEach(() => jest.useRealTimers());

  it('resolves only once Redis has the entry', async () => {
    const fake = slowRedis();
    let done = false;
    const recorded = new AuditLog(config, fake.redis).record(entry).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    fake.answer();
    await recorded;
    expect(fake.writes()).toBe(1);
  });

  it('stops waiting after AUDIT_WAIT_MS, and shutdown still waits for the write', async () => {
    jest.useFakeTimers();
    const fake = slowRedis();
    const audit = new AuditLog(config, fake.redis);
    const recorded = audit.record(entry);
    jest.advanceTimersByTime(AUDIT_WAIT_MS);
    await recorded;
    expect(fake.writes()).toBe(0);
    let flushed = false;
    const flushing = audit.beforeApplicationShutdown().then(() => (flushed = true));
    await Promise.resolve();
    expect(flushed).toBe(false);
    fake.answer();
    await flushing;
    expect(fake.writes()).toBe(1);
  });

  it('never rejects: a Redis error is logged as a lost entry', async () => {
    const failing = { multi: () => ({ xadd: function () { return this; }, xtrim: function () { return this; }, exec: () => Promise.reject(new Error('down')) }) } as unknown as Redis;
    await expect(new AuditLog(config, failing).record(entry)).resolves.toBeUndefined();
  });
});
