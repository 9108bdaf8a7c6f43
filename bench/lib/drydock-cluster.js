'use strict';
// Drydock as a deployment runs it: API processes and worker processes (DRYDOCK_ROLE) on one
// Redis and one key prefix, with a tokens file of several teams so that the per-team running
// caps do not stand for the whole deployment's. Loopback only; started in parallel.

const { createHash, randomBytes } = require('node:crypto');
const { existsSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { startServer } = require('./common');
const { DRYDOCK_MAIN } = require('./drydock-jobs');

/**
 * `apis` API processes and `workers` worker processes (0: start them later with startWorkers) sharing `redisUrl` and a fresh key
 * prefix; `teams` tokens (role builder, every namespace), one team each. `env` is added to
 * every process's environment.
 */
async function startCluster({ redisUrl, apis, workers, teams, env = {} }) {
  if (!existsSync(DRYDOCK_MAIN)) throw new Error(`${DRYDOCK_MAIN} is missing: run \`npx nx build api\` (or \`make bench\`)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-bench-cluster-'));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  process.on('exit', removeData);
  const tokens = Array.from({ length: teams }, (_, i) => ({ team: `team${i}`, token: randomBytes(24).toString('hex') }));
  const tokensFile = join(dataDir, 'tokens.json');
  writeFileSync(
    tokensFile,
    JSON.stringify(
      tokens.map(({ team, token }) => ({ name: `bench-${team}`, team, role: 'builder', namespaces: ['**'], tokenSha256: createHash('sha256').update(token).digest('hex') })),
    ),
    { mode: 0o600 },
  );
  const keyPrefix = `bench-scale-${randomBytes(4).toString('hex')}`;
  const common = {
    NODE_ENV: process.env.BENCH_NODE_ENV ?? 'production',
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    DRYDOCK_DATA_DIR: dataDir,
    DRYDOCK_TOKENS_FILE: tokensFile,
    DRYDOCK_KEY_PREFIX: keyPrefix,
    // One key for all, or each process would make its own in the shared data directory at once.
    DRYDOCK_SECRET_KEY: randomBytes(32).toString('hex'),
    DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
    ...env,
  };
  const servers = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    removeData();
    process.off('exit', removeData);
  };
  /** Starts processes of `role` in parallel; resolves once every one is ready. */
  const start = async (role, count) => {
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => startServer(`${role}${i}`, DRYDOCK_MAIN, [], { ...common, DRYDOCK_ROLE: role }, '/health/ready')),
    );
    const ready = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    servers.push(...ready);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return ready;
  };
  const cluster = { keyPrefix, apis: [], workers: [], tokens, stop };
  try {
    cluster.apis = (await start('api', apis)).map((s) => ({ ...s, wsUrl: `${s.url.replace(/^http/, 'ws')}/graphql` }));
    cluster.workers = await start('worker', workers);
  } catch (error) {
    await stop();
    throw error;
  }
  /** More worker processes, started later (say, once jobs are queued). */
  cluster.startWorkers = async (count) => {
    const started = await start('worker', count);
    cluster.workers.push(...started);
    return started;
  };
  return cluster;
}

module.exports = { startCluster };
