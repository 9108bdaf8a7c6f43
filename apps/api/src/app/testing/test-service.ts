import { DockerEngine, EnginePool, ImageCatalog } from '@drydock/docker';
import type { EngineLoad } from '@drydock/jobs';
import { Test } from '@nestjs/testing';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../auth/principal';
import { NamespacePolicy } from '../auth/namespace.policy';
import { ContextStore } from '../builds/context-store';
import { APP_CONFIG, loadConfig, type AppConfig } from '../config/config';
import { EngineRouter } from '../engine/engine-router';
import { MergedCatalog } from '../engine/merged-catalog';
import { ArtifactStore } from '../images/artifact-store';
import { ImagesService } from '../images/images.service';
import { JobsService } from '../jobs/jobs.service';
import { RegistryCredentials } from '../registries/registry-credentials.service';
import { FakeEngine } from './fake-engine';
import { BuildSecrets } from '../secrets/build-secrets.service';
import { FakeBuildSecrets, FakeCatalog, FakeJobs, FakeVault } from './fakes';

export const teamA: Principal = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['team-a/**'] };
export const viewerA: Principal = { name: 'viewer-a', team: 'team-a', role: 'viewer', namespaces: ['team-a/**'] };
export const admin: Principal = { name: 'root', team: 'ops', role: 'admin', namespaces: [] };

/** One fake engine of the pool, by name, and the load the router reads of it (idle unless a spec sets it). */
export interface FakeMember {
  engine: FakeEngine;
  catalog: FakeCatalog;
  load: EngineLoad;
}

export interface TestServiceOptions {
  /** The pool's engines, by name (DRYDOCK_ENGINES); default one, `default`, from DOCKER_HOST. */
  engines?: string[];
}

export interface TestService<T> {
  sut: T;
  /** The first engine's fakes (the only engine's, by default). */
  engine: FakeEngine;
  catalog: FakeCatalog;
  /** Every engine's fakes, by name. */
  engines: Record<string, FakeMember>;
  pool: EnginePool;
  jobs: FakeJobs;
  buildSecrets: FakeBuildSecrets;
  config: AppConfig;
  /** The build contexts spooled so far (a refused build leaves none). */
  spooled(): string[];
  close(): Promise<void>;
}

/**
 * `Service` wired by Nest as the app wires it, with the engine, catalogue,
 * queue and vault replaced by in-memory fakes and the spool directories in a
 * fresh temporary directory: no engine, Redis or registry is reached.
 */
export async function newTestService<T>(
  Service: new (...args: never[]) => T,
  env: Record<string, string> = {},
  options: TestServiceOptions = {},
): Promise<TestService<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'drydock-spec-'));
  const engineList = options.engines?.map((name) => ({ name, host: `unix:///nonexistent/${name}.sock` }));
  const config = loadConfig({ DRYDOCK_DATA_DIR: dir, ...(engineList ? { DRYDOCK_ENGINES: JSON.stringify(engineList) } : {}), ...env });
  const engines: Record<string, FakeMember> = {};
  for (const { name } of config.engines) {
    const fake = new FakeEngine();
    engines[name] = { engine: fake, catalog: new FakeCatalog(fake), load: { waiting: 0, running: 0 } };
  }
  const pool = new EnginePool(
    config.engines,
    (spec) => (engines[spec.name] as FakeMember).engine as unknown as DockerEngine,
    (fake) => Object.values(engines).find((member) => member.engine === (fake as unknown))?.catalog as unknown as ImageCatalog,
  );
  const { engine, catalog } = engines[pool.first.name] as FakeMember;
  const jobs = new FakeJobs();
  const buildSecrets = new FakeBuildSecrets();
  const contexts = config.contextsDir;
  const module = await Test.createTestingModule({
    providers: [
      ...new Set([Service, ImagesService, NamespacePolicy]),
      { provide: APP_CONFIG, useValue: config },
      { provide: DockerEngine, useValue: engine },
      // The pool hands out the same fakes the test reads.
      { provide: EnginePool, useValue: pool },
      { provide: MergedCatalog, useValue: new MergedCatalog(pool) },
      {
        provide: EngineRouter,
        inject: [EnginePool],
        useFactory: (pool: EnginePool) => new EngineRouter(pool, async (name) => (engines[name] as FakeMember).load),
      },
      { provide: JobsService, useValue: jobs },
      { provide: RegistryCredentials, useValue: new FakeVault() },
      { provide: BuildSecrets, useValue: buildSecrets },
      { provide: ContextStore, useValue: new ContextStore(contexts, config.buildContextMaxBytes, config.teamContextMaxBytes) },
      { provide: ArtifactStore, useValue: new ArtifactStore(join(dir, 'artifacts')) },
    ],
  }).compile();
  return {
    sut: module.get(Service),
    engine,
    catalog,
    engines,
    pool,
    jobs,
    buildSecrets,
    config,
    spooled: () => (existsSync(contexts) ? readdirSync(contexts) : []),
    close: async () => {
      await module.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
