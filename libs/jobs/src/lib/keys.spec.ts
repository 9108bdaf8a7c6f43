import { JobKeys, redisKeyBase } from './keys';

// ioredis' own slot function: what a Cluster client routes by.
const slotOf = require('cluster-key-slot') as (key: string) => number;

describe('JobKeys', () => {
  it('puts every key and channel of a deployment under its prefix as one hash tag, so all hash to one Cluster slot', () => {
    const keys = new JobKeys('drydock');
    const all = [
      keys.record('j1'),
      keys.index,
      keys.dedupOwner('j1'),
      keys.cancelRequested('j2'),
      keys.eventCounter('j3'),
      keys.eventList('j4'),
      keys.eventWriters('j5'),
      keys.eventsClosed('j6'),
      keys.teamWaiting('team-a'),
      keys.teamWaitingOf(null, 'BUILD'),
      keys.teamRunning('team-b', 'RUN'),
      keys.lease('push:registry/repo'),
      keys.remembered('idempotency:x'),
      keys.eventChannel('j7'),
      keys.recordChannel,
      keys.cancelChannel,
      `${keys.bullPrefix}:PULL:wait`,
    ];
    for (const key of all) expect(key.startsWith('{drydock}:')).toBe(true);
    expect(new Set(all.map(slotOf))).toEqual(new Set([slotOf('drydock')]));
    expect(keys.eventChannelPattern).toBe('{drydock}:events:*');
  });

  it('gives deployments with other prefixes other tags', () => {
    expect(redisKeyBase('team-x:prod')).toBe('{team-x:prod}');
    expect(slotOf(`${redisKeyBase('a')}:job:1`)).not.toBe(slotOf(`${redisKeyBase('b')}:job:1`));
  });

  it.each(['', 'a*', 'a?', 'a[b]', '{a}', 'a}b', 'a\\b'])('refuses the prefix "%s", which would break the tag or the pattern', (prefix) => {
    expect(() => new JobKeys(prefix)).toThrow('invalid Redis key prefix');
  });
});
