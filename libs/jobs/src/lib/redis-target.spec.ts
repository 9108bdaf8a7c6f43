import { Cluster, Redis } from 'ioredis';
import { connectRedis, duplicateRedis, parseRedisUrl } from './redis-target';

describe('parseRedisUrl', () => {
  it('reads one node with its credentials, database and TLS as before', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6391')).toEqual({ kind: 'node', options: { host: '127.0.0.1', port: 6391 } });
    expect(parseRedisUrl('rediss://user:p%40ss@redis.example:6380/2')).toEqual({
      kind: 'node',
      options: { host: 'redis.example', port: 6380, db: 2, username: 'user', password: 'p@ss', tls: {} },
    });
    expect(parseRedisUrl('redis://:secret@[::1]')).toEqual({ kind: 'node', options: { host: '::1', port: 6379, password: 'secret' } });
  });

  it('reads a Cluster as its seed nodes, the credentials going to every node', () => {
    expect(parseRedisUrl('redis+cluster://:pw@10.0.0.1:7001,10.0.0.2,redis-3:7003')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7001 },
        { host: '10.0.0.2', port: 6379 },
        { host: 'redis-3', port: 7003 },
      ],
      options: { redisOptions: { password: 'pw' } },
    });
    expect(parseRedisUrl('rediss+cluster://a:1')).toMatchObject({ kind: 'cluster', options: { redisOptions: { tls: {} } } });
  });

  it('reads Sentinel as the sentinels, the master name and a database', () => {
    expect(parseRedisUrl('redis+sentinel://u:pw@s1:26379,s2/mymaster/3')).toEqual({
      kind: 'node',
      options: {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
        name: 'mymaster',
        db: 3,
        username: 'u',
        password: 'pw',
      },
    });
    expect(parseRedisUrl('rediss+sentinel://s1/m')).toMatchObject({ options: { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } });
  });

  it.each([
    ['http://127.0.0.1:6379', /expected redis:\/\//],
    ['redis://a:1,b:2', /redis\+cluster/],
    ['redis://a:70000', /not host\[:port\]/],
    ['redis://a/zero', /not a number/],
    ['redis://a?tls=true', /query strings/],
    ['redis+cluster://a:1/0', /no database/],
    ['redis+cluster://', /not host\[:port\]/],
    ['redis+sentinel://s1:26379', /master-name/],
    ['redis+sentinel://s1:26379/bad name', /master-name/],
    ['redis+sentinel://s1/m/1/2', /master-name/],
    ['redis://u:%zz@a', /percent-encoding/],
  ])('refuses %s, saying why', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(why);
  });
});

describe('connectRedis', () => {
  it('makes a Cluster client for a Cluster, with the queueing behaviour on the Cluster and the rest on its nodes', () => {
    const client = connectRedis(parseRedisUrl('redis+cluster://127.0.0.1:1'), { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: null });
    expect(client).toBeInstanceOf(Cluster);
    const cluster = client as Cluster;
    expect(cluster.options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: null } });
    const subscriber = duplicateRedis(cluster, { lazyConnect: true, maxRetriesPerRequest: 5 }) as Cluster;
    expect(subscriber).toBeInstanceOf(Cluster);
    expect(subscriber.options).toMatchObject({ enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 5 } });
    cluster.disconnect();
    subscriber.disconnect();
  });

  it('makes one client for a node or a Sentinel-watched master', () => {
    const client = connectRedis(parseRedisUrl('redis+sentinel://127.0.0.1:1/m'), { lazyConnect: true });
    expect(client).toBeInstanceOf(Redis);
    expect((client as Redis).options).toMatchObject({ name: 'm', sentinels: [{ host: '127.0.0.1', port: 1 }], lazyConnect: true });
    client.disconnect();
  });
});
