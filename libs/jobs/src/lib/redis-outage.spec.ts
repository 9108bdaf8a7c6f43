import { ErrorCode } from '@drydock/core';
import { RedisOutage } from './redis-outage';

const unreachable = (): Error => Object.assign(new Error('Reached the max retries per request limit (which is 2).'), { name: 'MaxRetriesPerRequestError' });

describe('RedisOutage', () => {
  it('retries an operation through an outage until Redis answers, and then is no longer past its grace', async () => {
    let clock = 0;
    const outage = new RedisOutage(1_000, () => clock);
    let calls = 0;
    const value = await outage.ride(async () => {
      calls++;
      if (calls < 4) {
        clock += 600;
        throw unreachable();
      }
      return 'stored';
    });
    expect(value).toBe('stored');
    expect(calls).toBe(4);
    expect(outage.pastGrace).toBe(false);
  });

  it('says it is past its grace once Redis has been unreachable longer than the grace period', () => {
    let clock = 0;
    const outage = new RedisOutage(1_000, () => clock);
    outage.markUnreachable();
    clock = 999;
    expect(outage.pastGrace).toBe(false);
    clock = 1_001;
    expect(outage.pastGrace).toBe(true);
    outage.markReachable();
    expect(outage.pastGrace).toBe(false);
  });

  it('does not retry what Redis refused (a script error is no outage)', async () => {
    const outage = new RedisOutage();
    let calls = 0;
    await expect(
      outage.ride(async () => {
        calls++;
        throw new Error('ERR Error running script');
      }),
    ).rejects.toThrow('ERR Error running script');
    expect(calls).toBe(1);
  });

  it('stops retrying when closed, failing REDIS_UNAVAILABLE without the client library message', async () => {
    const outage = new RedisOutage();
    const ride = outage.ride(async () => {
      throw unreachable();
    });
    outage.close();
    const error = await ride.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.REDIS_UNAVAILABLE });
    expect((error as Error).message).not.toMatch(/max retries/);
  });
});
