import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('loadConfig: engines', () => {
  it('makes one engine named default from DOCKER_HOST when DRYDOCK_ENGINES is unset, served by the worker', () => {
    const config = loadConfig({ DOCKER_HOST: 'tcp://127.0.0.1:2375' });
    expect(config.engines).toEqual([{ name: 'default', host: 'tcp://127.0.0.1:2375', labels: {}, concurrency: null, tls: null }]);
    expect(config.workerEngines).toEqual(['default']);
  });

  it('reads DRYDOCK_ENGINES in order, and DRYDOCK_WORKER_ENGINES as the names this worker serves', () => {
    const engines = JSON.stringify([
      { name: 'a', host: 'unix:///var/run/docker.sock', labels: { arch: 'amd64' } },
      { name: 'b', host: 'tcp://10.0.0.2:2375', concurrency: 4 },
    ]);
    const config = loadConfig({ DRYDOCK_ENGINES: engines, DRYDOCK_WORKER_ENGINES: 'b' });
    expect(config.engines.map((engine) => [engine.name, engine.labels, engine.concurrency])).toEqual([
      ['a', { arch: 'amd64' }, null],
      ['b', {}, 4],
    ]);
    expect(config.workerEngines).toEqual(['b']);
    expect(loadConfig({ DRYDOCK_ENGINES: engines }).workerEngines).toEqual(['a', 'b']);
  });

  it.each([
    ['not JSON', '{', 'expected a JSON array'],
    ['an empty list', '[]', 'expected a JSON array of 1 to'],
    ['a name twice', '[{"name":"a","host":"unix:///x"},{"name":"a","host":"unix:///y"}]', 'named twice'],
    ['a name with a colon', '[{"name":"a:b","host":"unix:///x"}]', 'name "a:b"'],
    ['a host that is no DOCKER_HOST', '[{"name":"a","host":"ssh://box"}]', 'expected unix:// or tcp://'],
    ['a field it does not know', '[{"name":"a","host":"unix:///x","hots":"y"}]', 'unknown field hots'],
    ['TLS files that are not there', '[{"name":"a","host":"tcp://h:2376","tlsVerify":true,"certPath":"/nonexistent"}]', 'cannot read /nonexistent/ca.pem'],
  ])('refuses DRYDOCK_ENGINES with %s at boot', (_, value, message) => {
    expect(() => loadConfig({ DRYDOCK_ENGINES: value })).toThrow(message);
  });

  it('refuses a DRYDOCK_WORKER_ENGINES name that is not an engine', () => {
    expect(() => loadConfig({ DRYDOCK_WORKER_ENGINES: 'b' })).toThrow('"b" is not an engine of DRYDOCK_ENGINES (default)');
  });
});

describe('loadConfig: metrics listener', () => {
  it('opens no metrics listener unless METRICS_PORT is set, and binds it to loopback by default', () => {
    expect(loadConfig({}).metrics).toBeNull();
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
  });

  it('refuses a METRICS_PORT that is not a port, or is the API port, and a METRICS_HOST that is no host', () => {
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT=70000/);
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow(/METRICS_PORT=nine/);
    expect(() => loadConfig({ PORT: '3000', METRICS_PORT: '3000' })).toThrow(/already listens/);
    expect(() => loadConfig({ METRICS_PORT: '9464', METRICS_HOST: 'a b/c' })).toThrow(/METRICS_HOST/);
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

describe('loadConfig: console', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-'));

  it('serves a built console from DRYDOCK_CONSOLE_DIR, and none with off', () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    expect(loadConfig({ DRYDOCK_CONSOLE_DIR: dir }).consoleDir).toBe(dir);
    expect(loadConfig({ DRYDOCK_CONSOLE_DIR: 'off' }).consoleDir).toBeNull();
  });

  it('refuses to start on a DRYDOCK_CONSOLE_DIR that holds no built console', () => {
    expect(() => loadConfig({ DRYDOCK_CONSOLE_DIR: join(dir, 'missing') })).toThrow(/DRYDOCK_CONSOLE_DIR=.*no index.html/);
  });
});

describe('loadConfig: pruning what BuildKit synced', () => {
  it('prunes 5 s after the last build, or at 1 GiB or 100 builds, unless told otherwise', () => {
    expect(loadConfig({}).syncedContexts).toEqual({ idleMs: 5_000, maxBytes: 1024 ** 3, maxBuilds: 100 });
    expect(loadConfig({ DRYDOCK_BUILDKIT_PRUNE_IDLE_MS: '0', DRYDOCK_BUILDKIT_PRUNE_AFTER_BYTES: '1048576', DRYDOCK_BUILDKIT_PRUNE_AFTER_BUILDS: '1' }).syncedContexts).toEqual({
      idleMs: 0,
      maxBytes: 1024 * 1024,
      maxBuilds: 1,
    });
    expect(() => loadConfig({ DRYDOCK_BUILDKIT_PRUNE_AFTER_BUILDS: '0' })).toThrow('DRYDOCK_BUILDKIT_PRUNE_AFTER_BUILDS');
  });
});

describe('loadConfig: where build contexts are spooled', () => {
  it('spools under the data directory unless DRYDOCK_CONTEXTS_DIR names a place of its own', () => {
    expect(loadConfig({ DRYDOCK_DATA_DIR: '/srv/drydock' }).contextsDir).toBe('/srv/drydock/contexts');
    expect(loadConfig({ DRYDOCK_DATA_DIR: '/srv/drydock', DRYDOCK_CONTEXTS_DIR: '/mnt/spool/' }).contextsDir).toBe('/mnt/spool');
  });
});
