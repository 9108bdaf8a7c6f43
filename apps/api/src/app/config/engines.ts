import { DrydockError, ErrorCode } from '@drydock/core';
import { DEFAULT_ENGINE, type EngineSpec, type EngineTls } from '@drydock/docker';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/** Engine names go into queue names and Redis keys: short, and nothing that means something there. */
export const ENGINE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const DOCKER_HOST = /^(unix|tcp|http|https):\/\//;
const MAX_ENGINES = 256;
const MAX_LABELS = 64;

function refuse(message: string): never {
  throw new DrydockError(ErrorCode.VALIDATION_FAILED, message);
}

/** The CLI's DOCKER_CERT_PATH layout: ca.pem, cert.pem and key.pem in one folder, read once at boot. */
function tlsFiles(certPath: string, what: string): EngineTls {
  const read = (file: string): Buffer => {
    try {
      return readFileSync(join(certPath, file));
    } catch (error) {
      return refuse(`${what}: cannot read ${join(certPath, file)}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

function hostOf(host: unknown, what: string): string {
  if (typeof host !== 'string' || !DOCKER_HOST.test(host)) refuse(`${what}: host ${JSON.stringify(host)}: expected unix:// or tcp://`);
  return host;
}

function specOf(entry: unknown, index: number): EngineSpec {
  const what = `DRYDOCK_ENGINES[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) refuse(`${what}: expected an object { name, host, labels, concurrency }`);
  const { name, host, labels = {}, concurrency = null, tlsVerify = false, certPath, ...rest } = entry as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) refuse(`${what}: unknown field ${unknown.join(', ')}`);
  if (typeof name !== 'string' || !ENGINE_NAME.test(name)) refuse(`${what}: name ${JSON.stringify(name)}: expected lower-case letters, digits, - and _ (at most 63)`);
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) refuse(`${what}: labels: expected an object of strings`);
  const labelEntries = Object.entries(labels as Record<string, unknown>);
  if (labelEntries.length > MAX_LABELS || labelEntries.some(([key, value]) => typeof value !== 'string' || key.length > 128 || value.length > 256)) {
    refuse(`${what}: labels: expected at most ${MAX_LABELS} string values`);
  }
  if (concurrency !== null && (!Number.isInteger(concurrency) || (concurrency as number) < 1 || (concurrency as number) > 1000)) {
    refuse(`${what}: concurrency: expected an integer from 1 to 1000`);
  }
  if (typeof tlsVerify !== 'boolean') refuse(`${what}: tlsVerify: expected true or false`);
  if (certPath !== undefined && typeof certPath !== 'string') refuse(`${what}: certPath: expected a folder`);
  return {
    name,
    host: hostOf(host, what),
    labels: Object.fromEntries(labelEntries) as Record<string, string>,
    concurrency: concurrency as number | null,
    tls: tlsVerify ? tlsFiles(certPath ?? '', what) : null,
  };
}

/**
 * DRYDOCK_ENGINES, a JSON array of `{ name, host, labels, concurrency, tlsVerify, certPath }`;
 * unset, one engine named `default` from DOCKER_HOST, with the CLI's DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
 */
export function enginesOf(env: Env): EngineSpec[] {
  const raw = env['DRYDOCK_ENGINES']?.trim();
  if (!raw) {
    const host = env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
    if (!DOCKER_HOST.test(host)) refuse(`DOCKER_HOST=${host}: expected unix:// or tcp://`);
    const verify = !!env['DOCKER_TLS_VERIFY'] && env['DOCKER_TLS_VERIFY'] !== '0';
    const certPath = env['DOCKER_CERT_PATH'] || join(env['HOME'] ?? '', '.docker');
    return [{ name: DEFAULT_ENGINE, host, labels: {}, concurrency: null, tls: verify ? tlsFiles(certPath, 'DOCKER_CERT_PATH') : null }];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    refuse('DRYDOCK_ENGINES: expected a JSON array of { name, host, labels, concurrency }');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_ENGINES) {
    refuse(`DRYDOCK_ENGINES: expected a JSON array of 1 to ${MAX_ENGINES} engines`);
  }
  const specs = parsed.map(specOf);
  const names = new Set<string>();
  for (const { name } of specs) {
    if (names.has(name)) refuse(`DRYDOCK_ENGINES: engine "${name}" is named twice`);
    names.add(name);
  }
  return specs;
}

/** DRYDOCK_WORKER_ENGINES: the engines this process's worker serves, by name; unset, all of them. */
export function workerEnginesOf(env: Env, engines: readonly EngineSpec[]): string[] {
  const names = (env['DRYDOCK_WORKER_ENGINES'] ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) return engines.map((engine) => engine.name);
  const known = new Set(engines.map((engine) => engine.name));
  for (const name of names) {
    if (!known.has(name)) refuse(`DRYDOCK_WORKER_ENGINES: "${name}" is not an engine of DRYDOCK_ENGINES (${[...known].join(', ')})`);
  }
  return [...new Set(names)];
}
