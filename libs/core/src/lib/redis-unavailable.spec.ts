import { DrydockError, ErrorCode } from './errors';
import { isRedisUnreachable, redisUnavailable } from './redis-unavailable';

describe('isRedisUnreachable', () => {
  it.each([
    Object.assign(new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' }),
    new Error('Connection is closed.'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6391'), { code: 'ECONNREFUSED' }),
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    new DrydockError(ErrorCode.REDIS_UNAVAILABLE, 'gone'),
    // A Cluster whose master for the slot is gone, or being failed over.
    new Error('CLUSTERDOWN The cluster is down'),
    new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'),
    Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' }),
    new Error('None of startup nodes is available'),
    // A Sentinel failover: no sentinel answers, or the old master now refuses writes.
    new Error('All sentinels are unreachable. Retrying from scratch after 10ms.'),
    new Error("READONLY You can't write against a read only replica."),
  ])('reads %s as Redis being unreachable', (error) => {
    expect(isRedisUnreachable(error)).toBe(true);
  });

  it.each([
    new Error('ERR wrong number of arguments'),
    new Error("CROSSSLOT Keys in request don't hash to the same slot"),
    new DrydockError(ErrorCode.INTERNAL, 'Connection is closed.'),
    'Connection is closed.',
    null,
  ])('does not read %s as an outage', (error) => {
    expect(isRedisUnreachable(error)).toBe(false);
  });
});

describe('redisUnavailable', () => {
  it('never carries the client library message, only keeps it as the cause', () => {
    const cause = new Error('Reached the max retries per request limit (which is 2).');
    const error = redisUnavailable(cause);
    expect(error.code).toBe(ErrorCode.REDIS_UNAVAILABLE);
    expect(error.message).not.toMatch(/max retries/);
    expect(error.cause).toBe(cause);
  });
});
