import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisKeys, writeTokensFile } from '../support/app';
import { removeImagesUnder } from '../support/engine';
import { testEnv } from '../support/env';
import { startProcess, type DrydockProcess } from '../support/process';
import { fetchAnswer, peakRss, type HostileCase, type Target } from './harness';
import { corpus } from './cases';

/** The budget: the service stays under this through the whole corpus. */
const RSS_BUDGET_BYTES = 400 * 1024 ** 2;
const CONTEXT_MAX_BYTES = 4 * 1024 ** 2;
const JSON_MAX_BYTES = 256 * 1024;

describe('the hostile corpus, against one Drydock process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'drydock-hostile-'));
  // Named, not derived: the cases look for leftovers where the service spools.
  const spoolDir = join(dataDir, 'contexts');
  const prefix = `hostile-${randomUUID().slice(0, 8)}`;
  const namespaceA = `${testEnv.registry}/${prefix}-a`;
  const namespaceB = `${testEnv.registry}/${prefix}-b`;
  let drydock: DrydockProcess;
  let target: Target;
  /** Which cases raised the peak, and to what: where to look when the budget is passed. */
  const peaks: string[] = [];
  let lastPeak = 0;

  beforeAll(async () => {
    const { file, tokens } = writeTokensFile(dataDir, [
      { name: 'admin', team: 'ops', role: 'admin' },
      { name: 'builderA', team: 'team-a', role: 'builder', namespaces: [`${namespaceA}/**`] },
      { name: 'viewerA', team: 'team-a', role: 'viewer', namespaces: [`${namespaceA}/**`] },
      { name: 'builderB', team: 'team-b', role: 'builder', namespaces: [`${namespaceB}/**`] },
    ]);
    drydock = await startProcess('all', {
      DRYDOCK_DATA_DIR: dataDir,
      DRYDOCK_CONTEXTS_DIR: spoolDir,
      DRYDOCK_TOKENS_FILE: file,
      DRYDOCK_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      DRYDOCK_BUILD_CONTEXT_MAX_BYTES: String(CONTEXT_MAX_BYTES),
      DRYDOCK_JSON_BODY_MAX_BYTES: String(JSON_MAX_BYTES),
      // The corpus attacks many times a minute on purpose; the limiter has cases of its own.
      DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
      DRYDOCK_REGISTRIES_ALLOW: testEnv.registry,
      DRYDOCK_JOB_MAX_LOG_LINES: '20000',
      DRYDOCK_BUILD_TIMEOUT_SECONDS: '10',
      DRYDOCK_BUILD_MEMORY_BYTES: String(256 * 1024 ** 2),
    });
    const url = drydock.url;
    const request: Target['request'] = (method, path, token, init = {}) =>
      fetchAnswer(url + path, { method, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) }, ...(init.body !== undefined ? { body: init.body } : {}) });
    target = {
      url,
      port: Number(new URL(url).port),
      tokens: tokens as unknown as Target['tokens'],
      spoolDir,
      registry: testEnv.registry,
      fixture: testEnv.fixture,
      namespaceA,
      namespaceB,
      limits: { contextBytes: CONTEXT_MAX_BYTES, jsonBytes: JSON_MAX_BYTES },
      request,
      graphql: (token, query, variables = {}) =>
        request('POST', '/graphql', token, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }),
    };
  });

  afterAll(async () => {
    if (drydock && target) {
      // Runs keep their containers (to be committed); the corpus's go with it.
      const listed = await target.request('GET', '/v1/containers?all=true', target.tokens.admin);
      for (const container of JSON.parse(listed.body) as Array<{ id: string }>) {
        await target.request('DELETE', `/v1/containers/${container.id}?force=true`, target.tokens.admin);
      }
    }
    if (drydock) {
      drydock.child.kill('SIGTERM');
      await drydock.exited;
    }
    await dropRedisKeys(prefix);
    removeImagesUnder(namespaceA);
    removeImagesUnder(namespaceB);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** After every case: the process is the same one, and it still answers. */
  async function expectAlive(after: HostileCase): Promise<void> {
    if (drydock.child.exitCode !== null || drydock.child.signalCode !== null) {
      throw new Error(`Drydock died after "${after.name}":\n${drydock.output().slice(-3000)}`);
    }
    const live = await fetchAnswer(`${drydock.url}/health/live`, { timeoutMs: 15_000 });
    if (live.status !== 200) throw new Error(`/health/live answered ${live.status} after "${after.name}"`);
    const peak = peakRss(drydock.child.pid as number);
    if (peak > lastPeak + 16 * 1024 ** 2) peaks.push(`${(peak / 1024 ** 2).toFixed(0)} MB after ${after.defect}: ${after.name}`);
    lastPeak = Math.max(lastPeak, peak);
  }

  for (const [family, cases] of Object.entries(corpus)) {
    describe(family, () => {
      for (const kase of cases) {
        it(`${kase.defect}: ${kase.name}`, async () => {
          try {
            await kase.run(target);
          } finally {
            await expectAlive(kase);
          }
        });
      }
    });
  }

  it(`kept its peak RSS under ${RSS_BUDGET_BYTES / 1024 ** 2} MB through the whole corpus`, () => {
    const peak = peakRss(drydock.child.pid as number);
    process.stdout.write(`hostile corpus: peak RSS ${(peak / 1024 ** 2).toFixed(0)} MB; it rose\n  ${peaks.join('\n  ')}\n`);
    expect(peak).toBeLessThan(RSS_BUDGET_BYTES);
  });
});
