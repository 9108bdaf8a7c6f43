import { DrydockError, ErrorCode } from '@drydock/core';
import { type BuildLimits, type EngineSpec } from '@drydock/docker';
import { DEFAULT_SYNCED_CONTEXT_POLICY, JOB_TYPES, JobType, parseRedisUrl, type SyncedContextPolicy, validKeyPrefix, type RedisTarget } from '@drydock/jobs';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readTokensFile, type TokenEntry } from '../auth/tokens-file';
import { REGISTRY_HOST } from '../common/validation';
import { enginesOf, workerEnginesOf } from './engines';
import { webhookConfigOf, type WebhookConfig } from './webhooks';
import { tracesConfigOf, type TracesConfig } from './traces';

export type Role = 'all' | 'api' | 'worker';

/** Everything Drydock reads from its environment, parsed and checked once at boot. */
export interface AppConfig {
  host: string;
  port: number;
  /** A second listener that serves /metrics alone, without a token (METRICS_PORT); null: none. */
  metrics: { port: number; host: string } | null;
  /** Every engine, in configuration order (DRYDOCK_ENGINES, or DOCKER_HOST as `default`). */
  engines: EngineSpec[];
  /** The engines this process's worker serves (DRYDOCK_WORKER_ENGINES). */
  workerEngines: string[];
  /** REDIS_URL parsed: one node, a Sentinel-watched master, or a Cluster. */
  redis: RedisTarget;
  role: Role;
  dataDir: string;
  /**
   * Where build contexts are spooled (DRYDOCK_CONTEXTS_DIR, default DATA_DIR/contexts). On its own
   * filesystem when the engine's data-root is on this host: the engine flushes its filesystem
   * while it builds, and a spool there is written out within every build.
   */
  contextsDir: string;
  /** The built console served under /console (DRYDOCK_CONSOLE_DIR); null: no console. */
  consoleDir: string | null;
  tokensFile: string | null;
  /** The entries of tokensFile, read and checked at boot; null when no file is configured. */
  tokens: readonly TokenEntry[] | null;
  secretKey: string | null;
  /** The key before a rotation: opens what it sealed, which is then sealed again with secretKey. */
  secretKeyPrevious: string | null;
  logLevel: string;
  /** Prefix of every Redis key and queue, so deployments (and test suites) can share one Redis. */
  keyPrefix: string;
  /** How long running jobs ride through a Redis outage (their events held in memory) before they are stopped, REDIS_UNAVAILABLE. */
  redisGraceSeconds: number;
  /** How long job records and events are kept after the job ends. */
  jobRetentionSeconds: number;
  /** Cap on an uploaded build context (REST x-tar, multipart). */
  buildContextMaxBytes: number;
  /** Cap on the build contexts one team has spooled at once (uploads waiting, builds queued). */
  teamContextMaxBytes: number;
  /** The fence of a build's RUN steps (every limit the engine's legacy build API takes). */
  build: BuildLimits;
  /** When the contexts BuildKit synced for finished builds are pruned from the engine's cache. */
  syncedContexts: SyncedContextPolicy;
  /** Jobs one team may have waiting, of every type; past it enqueue answers 429 QUEUE_FULL. */
  teamMaxWaiting: number;
  /** Build secrets one team may store; past it PUT answers 409 QUOTA_EXCEEDED. */
  teamMaxSecrets: number;
  /** Jobs of each type one team may run at once, across every worker process. */
  teamMaxRunning: Record<JobType, number>;
  /** Each type's time limit per attempt; a request may ask for less (`timeoutSeconds`), never more. */
  jobTimeoutSeconds: Record<JobType, number>;
  /** Cap on JSON request bodies. */
  jsonBodyMaxBytes: number;
  /** Mutations (REST non-GET, GraphQL mutations) one token may make per minute; 0 turns the limit off. */
  mutationsPerMinute: number;
  /** GraphQL operations nested deeper than this are refused (400 VALIDATION_FAILED). */
  graphqlMaxDepth: number;
  /** GraphQL operations making more selections than this (fragments expanded) are refused. */
  graphqlMaxSelections: number;
  /** Mutation fields (aliases each count) one GraphQL operation may run; past it 400, nothing runs. */
  graphqlMaxMutations: number;
  /** Registry hosts (`host[:port]`, lower case) any team may search, and that token realms may name. */
  registriesAllow: readonly string[];
  /** LOG output one job may store (lines, bytes); past it lines are counted and dropped. */
  jobLogBudget: { lines: number; bytes: number };
  /** Cap on one graphql-ws message, connection_init included: the HTTP body cap does not apply there. */
  wsMaxMessageBytes: number;
  /** Default and highest byte cap of GET /v1/containers/{id}/logs. */
  containerLogsMaxBytes: number;
  /** How long audit entries are kept, and at most how many. */
  auditRetentionSeconds: number;
  auditMaxEntries: number;
  /** Webhook targets, retries and bounds (DRYDOCK_WEBHOOK_*, DRYDOCK_TEAM_MAX_WEBHOOKS). */
  webhooks: WebhookConfig;
  /** Whether traces are exported, and as which service (the standard OTEL_* variables; main.ts starts the SDK). */
  traces: TracesConfig;
  run: {
    memoryBytes: number;
    nanoCpus: number;
    staleAfterSeconds: number;
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * A number per job type: `BUILD=2,RUN=4` (types left out keep their default)
 * or one number for every type.
 */
function perType(env: Env, name: string, defaults: Record<JobType, number>, min: number, max: number): Record<JobType, number> {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return { ...defaults };
  const valueOf = (text: string, what: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: ${what}=${text}: expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  if (!raw.includes('=')) {
    const value = valueOf(raw, 'every type');
    return Object.fromEntries(JOB_TYPES.map((type) => [type, value])) as Record<JobType, number>;
  }
  const result = { ...defaults };
  for (const entry of raw.split(',')) {
    const [key = '', text = ''] = entry.split('=').map((part) => part.trim());
    const type = key.toUpperCase() as JobType;
    if (!JOB_TYPES.includes(type)) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: "${key}" is not a job type (${JOB_TYPES.join(', ')})`);
    }
    result[type] = valueOf(text, type);
  }
  return result;
}

const TEAM_MAX_RUNNING: Record<JobType, number> = {
  [JobType.BUILD]: 2,
  [JobType.RUN]: 4,
  [JobType.PULL]: 4,
  [JobType.PUSH]: 4,
  [JobType.EXPORT]: 4,
};

const JOB_TIMEOUT_SECONDS: Record<JobType, number> = {
  [JobType.BUILD]: 3600,
  [JobType.RUN]: 3600,
  [JobType.PULL]: 1800,
  [JobType.PUSH]: 1800,
  [JobType.EXPORT]: 1800,
};

const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

function hostList(env: Env, name: string): string[] {
  const entries = (env[name] ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!REGISTRY_HOST.test(entry)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: "${entry}" is not a host[:port]`);
  }
  return entries.map((entry) => entry.toLowerCase());
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}=${raw}: expected one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

/** A vault key: 64 hex characters, or null when unset. The value never appears in the error. */
function secretKeyOf(env: Env, name: string): string | null {
  const key = env[name] || null;
  if (key !== null && !/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${name}: expected 64 hex characters`);
  }
  return key;
}

/**
 * METRICS_PORT opens a listener that answers /metrics without a token, on
 * loopback unless METRICS_HOST says otherwise: whoever reaches it reads the
 * metrics, so it is the operator who widens it. Port 0 takes a free one.
 */
function metricsListener(env: Env): { port: number; host: string } | null {
  if ((env['METRICS_PORT'] ?? '') === '') return null;
  const port = integer(env, 'METRICS_PORT', 0, 0, 65535);
  const host = env['METRICS_HOST'] || '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `METRICS_HOST=${host}: expected a host name or an IP address`);
  if (port !== 0 && port === integer(env, 'PORT', 3000, 0, 65535)) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `METRICS_PORT=${port}: the API already listens there (PORT); choose another`);
  }
  return { port, host };
}

/** The URL's password never reaches the error: it would end up in the boot log. */
function redisTargetOf(url: string): RedisTarget {
  try {
    return parseRedisUrl(url);
  } catch (error) {
    const shown = url.replace(/:\/\/.*@/, '://***@');
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `REDIS_URL=${shown}: ${(error as Error).message}`);
  }
}

export function loadConfig(env: Env = process.env): AppConfig {
  const secretKey = secretKeyOf(env, 'DRYDOCK_SECRET_KEY');
  const secretKeyPrevious = secretKeyOf(env, 'DRYDOCK_SECRET_KEY_PREVIOUS');
  const redisUrl = env['REDIS_URL'] || 'redis://127.0.0.1:6380';
  const redis = redisTargetOf(redisUrl);
  const keyPrefix = env['DRYDOCK_KEY_PREFIX'] || 'drydock';
  if (!validKeyPrefix(keyPrefix)) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `DRYDOCK_KEY_PREFIX=${keyPrefix}: must not be empty nor hold * ? [ ] { } or \\`);
  }
  const engines = enginesOf(env);
  const tokensFile = env['DRYDOCK_TOKENS_FILE'] || null;
  const dataDir = resolve(env['DRYDOCK_DATA_DIR'] || '.data');
  return {
    host: env['HOST'] || '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    metrics: metricsListener(env),
    engines,
    workerEngines: workerEnginesOf(env, engines),
    redis,
    role: oneOf(env, 'DRYDOCK_ROLE', ['all', 'api', 'worker'] as const, 'all'),
    dataDir,
    contextsDir: env['DRYDOCK_CONTEXTS_DIR'] ? resolve(env['DRYDOCK_CONTEXTS_DIR']) : join(dataDir, 'contexts'),
    consoleDir: consoleDirOf(env),
    tokensFile,
    tokens: tokensFile === null ? null : readTokensFile(tokensFile),
    secretKey,
    secretKeyPrevious,
    keyPrefix,
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    redisGraceSeconds: integer(env, 'DRYDOCK_REDIS_GRACE_SECONDS', 60, 1, 3600),
    jobRetentionSeconds: integer(env, 'DRYDOCK_JOB_RETENTION_SECONDS', 24 * 3600, 60, 90 * 24 * 3600),
    buildContextMaxBytes: integer(env, 'DRYDOCK_BUILD_CONTEXT_MAX_BYTES', 2 * 1024 ** 3, 1024, 64 * 1024 ** 3),
    teamContextMaxBytes: integer(env, 'DRYDOCK_TEAM_CONTEXT_MAX_BYTES', 4 * 1024 ** 3, 1024, 1024 ** 4),
    build: {
      memoryBytes: integer(env, 'DRYDOCK_BUILD_MEMORY_BYTES', 2 * 1024 ** 3, 6 * 1024 ** 2, 1024 ** 4),
      nanoCpus: integer(env, 'DRYDOCK_BUILD_NANO_CPUS', 1_000_000_000, 10_000_000, 1024 * 1_000_000_000),
      nproc: integer(env, 'DRYDOCK_BUILD_NPROC', 512, 16, 1_000_000),
      nofile: integer(env, 'DRYDOCK_BUILD_NOFILE', 4096, 64, 1_048_576),
      shmBytes: integer(env, 'DRYDOCK_BUILD_SHM_BYTES', 64 * 1024 ** 2, 1024 ** 2, 64 * 1024 ** 3),
      network: oneOf(env, 'DRYDOCK_BUILD_NETWORK', ['none', 'default'] as const, 'none'),
    },
    syncedContexts: {
      idleMs: integer(env, 'DRYDOCK_BUILDKIT_PRUNE_IDLE_MS', DEFAULT_SYNCED_CONTEXT_POLICY.idleMs, 0, 3_600_000),
      maxBytes: integer(env, 'DRYDOCK_BUILDKIT_PRUNE_AFTER_BYTES', DEFAULT_SYNCED_CONTEXT_POLICY.maxBytes, 0, 1024 ** 4),
      maxBuilds: integer(env, 'DRYDOCK_BUILDKIT_PRUNE_AFTER_BUILDS', DEFAULT_SYNCED_CONTEXT_POLICY.maxBuilds, 1, 100_000),
    },
    teamMaxWaiting: integer(env, 'DRYDOCK_TEAM_MAX_WAITING', 100, 1, 1_000_000),
    teamMaxSecrets: integer(env, 'DRYDOCK_TEAM_MAX_SECRETS', 100, 1, 100_000),
    teamMaxRunning: perType(env, 'DRYDOCK_TEAM_MAX_RUNNING', TEAM_MAX_RUNNING, 1, 1000),
    // DRYDOCK_BUILD_TIMEOUT_SECONDS came first: it is still the BUILD default, which a BUILD= entry overrides.
    jobTimeoutSeconds: perType(
      env,
      'DRYDOCK_JOB_TIMEOUT_SECONDS',
      {
        ...JOB_TIMEOUT_SECONDS,
        [JobType.BUILD]: integer(env, 'DRYDOCK_BUILD_TIMEOUT_SECONDS', JOB_TIMEOUT_SECONDS[JobType.BUILD], 1, MAX_TIMEOUT_SECONDS),
      },
      1,
      MAX_TIMEOUT_SECONDS,
    ),
    jsonBodyMaxBytes: integer(env, 'DRYDOCK_JSON_BODY_MAX_BYTES', 8 * 1024 ** 2, 1024, 256 * 1024 ** 2),
    mutationsPerMinute: integer(env, 'DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE', 120, 0, 1_000_000),
    graphqlMaxDepth: integer(env, 'DRYDOCK_GRAPHQL_MAX_DEPTH', 15, 2, 100),
    graphqlMaxSelections: integer(env, 'DRYDOCK_GRAPHQL_MAX_SELECTIONS', 1000, 10, 100_000),
    graphqlMaxMutations: integer(env, 'DRYDOCK_GRAPHQL_MAX_MUTATIONS', 10, 1, 1000),
    registriesAllow: hostList(env, 'DRYDOCK_REGISTRIES_ALLOW'),
    jobLogBudget: {
      lines: integer(env, 'DRYDOCK_JOB_MAX_LOG_LINES', 100_000, 10, 100_000_000),
      bytes: integer(env, 'DRYDOCK_JOB_MAX_LOG_BYTES', 16 * 1024 ** 2, 1024, 16 * 1024 ** 3),
    },
    wsMaxMessageBytes: integer(env, 'DRYDOCK_WS_MAX_MESSAGE_BYTES', 1024 ** 2, 1024, 256 * 1024 ** 2),
    containerLogsMaxBytes: integer(env, 'DRYDOCK_CONTAINER_LOGS_MAX_BYTES', 16 * 1024 ** 2, 1024, 16 * 1024 ** 3),
    auditRetentionSeconds: integer(env, 'DRYDOCK_AUDIT_RETENTION_SECONDS', 90 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
    auditMaxEntries: integer(env, 'DRYDOCK_AUDIT_MAX_ENTRIES', 100_000, 100, 10_000_000),
    webhooks: webhookConfigOf(env, integer),
    traces: tracesConfigOf(env),
    run: {
      memoryBytes: integer(env, 'DRYDOCK_RUN_MEMORY_BYTES', 512 * 1024 ** 2, 0, 1024 ** 4),
      nanoCpus: integer(env, 'DRYDOCK_RUN_NANO_CPUS', 1_000_000_000, 0, 1024 * 1_000_000_000),
      staleAfterSeconds: integer(env, 'DRYDOCK_RUN_STALE_AFTER_SECONDS', 24 * 3600, 60, 365 * 24 * 3600),
    },
  };
}

/**
 * The console is optional: the default place (where `nx build console` writes it) is used when a
 * build is there; a folder named on purpose must hold one, or the start stops.
 */
function consoleDirOf(env: Env): string | null {
  const given = env['DRYDOCK_CONSOLE_DIR'];
  if (given === 'off') return null;
  const dir = resolve(given || 'dist/apps/console');
  if (existsSync(join(dir, 'index.html'))) return dir;
  if (!given) return null;
  throw new DrydockError(ErrorCode.VALIDATION_FAILED, `DRYDOCK_CONSOLE_DIR=${given}: no index.html there (build it with \`npx nx build console\`)`);
}
