import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docker } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { waitForJob, type JobJson } from '../support/jobs';
import { freePort } from '../support/process';

/**
 * The composed deployment (docker-compose.yml), started as an operator starts it: through
 * scripts/compose.sh, on base images made from Debian's packages and the npm registry. Its own
 * project name and ports, so it lives beside a deployment someone already runs here.
 */
const SCRIPT = join(__dirname, '../../scripts/compose.sh');
const run = promisify(execFile);
// Cold (no base image, no layer cached) it debootstraps Debian and runs npm ci: minutes, not seconds.
const UP_DEADLINE_MS = 25 * 60_000;

const project = `drydock-e2e-${randomUUID().slice(0, 8)}`;
let env: NodeJS.ProcessEnv;
let url = '';
let registry = '';
let token = '';

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run(SCRIPT, args, { env, maxBuffer: 64 * 1024 ** 2, timeout: UP_DEADLINE_MS });
  return stdout;
}

/** The container of one service of the deployment. */
function containerOf(service: string): string {
  return docker('ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`);
}

async function post(path: string, body: unknown): Promise<string> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

function succeeded(job: JobJson): JobJson {
  if (job.state !== 'SUCCEEDED') throw new Error(`job ${job.id} (${job.type}) ended ${job.state}: ${JSON.stringify(job.error)}`);
  return job;
}

describe('the composed deployment', () => {
  beforeAll(async () => {
    const [apiPort, registryPort] = [await freePort(), await freePort()];
    env = {
      ...process.env,
      COMPOSE_PROJECT_NAME: project,
      DRYDOCK_COMPOSE_API_PORT: String(apiPort),
      DRYDOCK_COMPOSE_REGISTRY_PORT: String(registryPort),
    };
    url = `http://127.0.0.1:${apiPort}`;
    registry = `localhost:${registryPort}`;
    await compose('up');
    // First start on an empty data volume: the API made the admin token and printed it, once, to its stdout.
    const logs = docker('logs', containerOf('api'));
    token = /It is shown this once:\s+(\S+)/.exec(logs)?.[1] ?? '';
    if (!token) throw new Error(`no admin token in the deployment's output:\n${logs.slice(-4000)}`);
  }, UP_DEADLINE_MS + 60_000);

  afterAll(async () => {
    if (env) await compose('down');
    for (const image of docker('images', '-q', `${registry}/smoke/*`).split('\n').filter(Boolean)) docker('rmi', '-f', image);
  }, 120_000);

  it('starts Redis, a registry, the API and two workers, every one healthy, Redis refusing to evict', async () => {
    const services = ['redis', 'registry', 'api', 'worker-1', 'worker-2'];
    const health = services.map((service) => docker('inspect', '-f', '{{.State.Health.Status}}', containerOf(service)));
    expect(health).toEqual(services.map(() => 'healthy'));
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', engine: { status: 'up' }, redis: { status: 'up' } });
    expect(docker('exec', containerOf('redis'), 'redis-cli', 'config', 'get', 'maxmemory-policy').split('\n')).toEqual(['maxmemory-policy', 'noeviction']);
  });

  it('runs the API as a non-root user on a read-only root filesystem', () => {
    const api = containerOf('api');
    expect(docker('inspect', '-f', '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}', api)).toBe('node true');
    expect(docker('exec', api, 'id', '-u')).not.toBe('0');
    expect(() => docker('exec', api, 'touch', '/app/written')).toThrow(/Read-only file system/);
    // Where it must write, it can: the data volume holds what it made at start.
    expect(docker('exec', api, 'ls', '/data')).toContain('tokens.json');
  });

  it('pulls an image, builds on it and pushes the build to its own registry, every job SUCCEEDED', async () => {
    const pulled = succeeded(await waitForJob(url, token, await post('/v1/images/pull', { reference: testEnv.fixture }), 120_000));
    // The engine is shared: the image may carry other suites' tags beside the one pulled.
    expect(pulled.result?.tags).toContain(testEnv.fixture);

    const tag = `${registry}/smoke/app:1`;
    const marker = randomUUID();
    const buildId = await post('/v1/builds', { dockerfile: `FROM ${testEnv.fixture}\nRUN echo ${marker} > /marker`, tags: [tag] });
    const built = succeeded(await waitForJob(url, token, buildId, 180_000));
    expect(built.result?.tags).toEqual([tag]);
    expect(docker('run', '--rm', '--network', 'none', tag, 'cat', '/marker')).toBe(marker);

    const pushed = succeeded(await waitForJob(url, token, await post(`/v1/images/${encodeURIComponent(tag)}/push`, {}), 120_000));
    // The registry of the deployment, asked directly, holds the tag at the digest the job reported.
    const manifest = await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${registry.split(':')[1]}/v2/smoke/app/manifests/1`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      return response.ok ? response.headers.get('docker-content-digest') : undefined;
    }, 10_000, 'the pushed manifest');
    expect(pushed.result?.digest).toBe(manifest);
  });
});
