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

export interface TestService<T> {
  sut: T;
  /** The first engine's fakes (the only engine's, unless `engines` named several). */
  engine: FakeEngine;
  catalog: FakeCatalog;
  /** Every engine's fakes by name, and the load the router reads of each (all idle unless a spec sets it). */
  engines: Record<string, { engine: FakeEngine; catalog: FakeCatalog; load: EngineLoad }>;
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
  engineNames: string[] = [],
): Promise<TestService<T>> {
  const dir = mkdtempSync(join(tmpdir(), 'drydock-spec-'));
  const several = engineNames.length ? { DRYDOCK_ENGINES: JSON.stringify(engineNames.map((name) => ({ name, host: `unix:///nowhere/${name}.sock` }))) } : {};
  const config = loadConfig({ DRYDOCK_DATA_DIR: dir, ...several, ...env });
  const engines: TestService<T>['engines'] = {};
  for (const spec of config.engines) {
    const fake = new FakeEngine();
    engines[spec.name] = { engine: fake, catalog: new FakeCatalog(fake), load: { waiting: 0, running: 0 } };
  }
  const fakesOf = (name: string) => engines[name] as TestService<T>['engines'][string];
  const { engine, catalog } = fakesOf(config.engines[0]?.name as string);
  const jobs = new FakeJobs();
  const buildSecrets = new FakeBuildSecrets();
  const contexts = join(dir, 'contexts');
  const module = await Test.createTestingModule({
    providers: [
      ...new Set([Service, ImagesService, NamespacePolicy]),
      { provide: APP_CONFIG, useValue: config },
      { provide: DockerEngine, useValue: engine },
      { provide: ImageCatalog, useValue: catalog },
      // The pool hands out the same fakes the test reads, one set per engine.
      {
        provide: EnginePool,
        useValue: new EnginePool(
          config.engines,
          (spec) => fakesOf(spec.name).engine as unknown as DockerEngine,
          (fake) => Object.values(engines).find((e) => e.engine === (fake as unknown))?.catalog as unknown as ImageCatalog,
        ),
      },
      {
        provide: EngineRouter,
        inject: [EnginePool],
        useFactory: (pool: EnginePool) => new EngineRouter(pool, async (name) => fakesOf(name).load),
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
