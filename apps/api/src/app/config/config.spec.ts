import { loadConfig } from './config';

describe('loadConfig: vault keys', () => {
  const key = 'ab'.repeat(32);

  it('takes DRYDOCK_SECRET_KEY_PREVIOUS beside the current key, and none by default', () => {
    expect(loadConfig({ DRYDOCK_SECRET_KEY: key, DRYDOCK_SECRET_KEY_PREVIOUS: 'cd'.repeat(32) })).toMatchObject({ secretKey: key, secretKeyPrevious: 'cd'.repeat(32) });
    expect(loadConfig({}).secretKeyPrevious).toBeNull();
  });

  it.each(['DRYDOCK_SECRET_KEY', 'DRYDOCK_SECRET_KEY_PREVIOUS'])('refuses %s that is not 64 hex characters at boot, without echoing it', (name) => {
    const bad = `${'zz'.repeat(31)}secret`;
    expect(() => loadConfig({ [name]: bad })).toThrow(`${name}: expected 64 hex characters`);
    try {
      loadConfig({ [name]: bad });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

describe('loadConfig: team limits and job time limits', () => {
  it('reads a limit per job type, or one number for every type, keeping the defaults of types left out', () => {
    const config = loadConfig({ DRYDOCK_TEAM_MAX_RUNNING: 'build=1, RUN=8', DRYDOCK_JOB_TIMEOUT_SECONDS: '600' });
    expect(config.teamMaxRunning).toEqual({ BUILD: 1, RUN: 8, PULL: 4, PUSH: 4, EXPORT: 4 });
    expect(config.jobTimeoutSeconds).toEqual({ BUILD: 600, RUN: 600, PULL: 600, PUSH: 600, EXPORT: 600 });
    expect(loadConfig({}).teamMaxWaiting).toBe(100);
  });

  it('keeps DRYDOCK_BUILD_TIMEOUT_SECONDS as the BUILD limit unless DRYDOCK_JOB_TIMEOUT_SECONDS names BUILD', () => {
    expect(loadConfig({ DRYDOCK_BUILD_TIMEOUT_SECONDS: '5' }).jobTimeoutSeconds.BUILD).toBe(5);
    expect(loadConfig({ DRYDOCK_BUILD_TIMEOUT_SECONDS: '5', DRYDOCK_JOB_TIMEOUT_SECONDS: 'BUILD=9' }).jobTimeoutSeconds.BUILD).toBe(9);
  });

  it.each([
    ['DRYDOCK_TEAM_MAX_RUNNING', 'BUILD=0'],
    ['DRYDOCK_TEAM_MAX_RUNNING', 'COMPILE=2'],
    ['DRYDOCK_JOB_TIMEOUT_SECONDS', 'RUN=soon'],
    ['DRYDOCK_JOB_TIMEOUT_SECONDS', '1.5'],
    ['DRYDOCK_TEAM_MAX_WAITING', '0'],
  ])('refuses %s=%s at boot', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('loadConfig: Redis', () => {
  it('parses REDIS_URL once: a node, a Cluster or Sentinel', () => {
    expect(loadConfig({}).redis).toEqual({ kind: 'node', options: { host: '127.0.0.1', port: 6380 } });
    expect(loadConfig({ REDIS_URL: 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002' }).redis.kind).toBe('cluster');
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://127.0.0.1:26379/main' }).redis).toMatchObject({ kind: 'node', options: { name: 'main' } });
  });

  it('refuses a REDIS_URL it cannot read at boot, without echoing its password', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://:hunter2@a:1/0' })).toThrow('REDIS_URL=redis+cluster://***@a:1/0: a Cluster has no database number');
    expect(() => loadConfig({ REDIS_URL: 'memcached://a' })).toThrow(/REDIS_URL=memcached:\/\/a: expected redis:\/\//);
  });

  it('refuses a DRYDOCK_KEY_PREFIX that would break its hash tag', () => {
    expect(() => loadConfig({ DRYDOCK_KEY_PREFIX: '{drydock}' })).toThrow(/DRYDOCK_KEY_PREFIX=\{drydock\}/);
  });
});
