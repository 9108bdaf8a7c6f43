import { DrydockError, ErrorCode } from '@drydock/core';
import { ImageCatalog } from './catalog';
import { DockerEngine, type EngineTls } from './engine';

/** One engine as configured (DRYDOCK_ENGINES, or DOCKER_HOST alone as `default`). */
export interface EngineSpec {
  name: string;
  /** As DOCKER_HOST takes it: `unix://…`, `tcp://…`. */
  host: string;
  labels: Record<string, string>;
  /** Jobs of each type the engine runs at once, across every worker; null leaves it to the workers' own concurrency. */
  concurrency: number | null;
  tls: EngineTls | null;
}

/** What this process holds of one engine: the adapter, and the catalogue that follows its events. */
export interface EngineMember {
  readonly name: string;
  readonly spec: EngineSpec;
  readonly engine: DockerEngine;
  readonly catalog: ImageCatalog;
}

export const DEFAULT_ENGINE = 'default';

/**
 * Every configured engine, by name, in configuration order. Each has its own
 * connection and catalogue; a process follows the events of all of them (the
 * API merges their lists), whichever engines its worker serves.
 */
export class EnginePool {
  private readonly members = new Map<string, EngineMember>();

  constructor(
    specs: readonly EngineSpec[],
    connect = (spec: EngineSpec) => new DockerEngine({ name: spec.name, dockerHost: spec.host, tls: spec.tls }),
    catalogOf = (engine: DockerEngine) => new ImageCatalog(engine),
  ) {
    if (specs.length === 0) throw new Error('an engine pool needs at least one engine');
    for (const spec of specs) {
      if (this.members.has(spec.name)) throw new Error(`engine "${spec.name}" is configured twice`);
      const engine = connect(spec);
      this.members.set(spec.name, { name: spec.name, spec, engine, catalog: catalogOf(engine) });
    }
  }

  get names(): string[] {
    return [...this.members.keys()];
  }

  get all(): EngineMember[] {
    return [...this.members.values()];
  }

  /** The first configured engine: where single-engine callers (health, registry logins) go. */
  get first(): EngineMember {
    return this.all[0] as EngineMember;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** The engine a request names; an unknown name is the caller's mistake, told with the names there are. */
  get(name: string): EngineMember {
    const member = this.members.get(name);
    if (!member) {
      throw new DrydockError(ErrorCode.UNKNOWN_ENGINE, `there is no engine "${name}"; engines: ${this.names.join(', ')}`, {
        details: { engines: this.names },
      });
    }
    return member;
  }

  engine(name: string): DockerEngine {
    return this.get(name).engine;
  }

  start(): void {
    for (const member of this.all) member.catalog.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((member) => member.catalog.stop()));
  }
}
