import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DrydockError, ErrorCode, isDrydockError, isTransient, parseReference } from '@drydock/core';
import { type BuildkitLogin, type BuildLimits, type BuildOptions, Builder, type DockerEngine } from '@drydock/docker';
import type { JobEmit } from '../emitter';
import { relayBuild } from '../progress';
import { relayBuildkit } from '../buildkit-progress';
import { JobType } from '../model';
import type { JobResultOf } from '../contract';
import type { JobContext, JobHandler } from '../runner/handler';
import { classifyFailure } from './engine-gone';
import { type BuildSecretSource, type ContextSource, type CredentialSource, type EngineSource, NO_BUILD_SECRETS } from './sources';
import { DEFAULT_SYNCED_CONTEXT_POLICY, type SyncedContextPolicy, SyncedContextSweeper } from './synced-contexts';

/** The engine's build options as job data: no credentials (the worker fetches them) and no signal. */
export type BuildJobData = Omit<BuildOptions, 'dockerfile' | 'registryConfig' | 'limits' | 'signal'> & {
  contextId: string;
  /** `-f`: the Dockerfile's path inside the context. */
  dockerfile: string;
  /** Registries the Dockerfile's FROM lines pull from: their credentials go to the engine (X-Registry-Config). */
  baseRegistries: string[];
  /** Images outside the team's namespaces the build may only read as they are here: never pulled. */
  localImages?: string[];
  team: string | null;
  /** Absent on jobs queued before BuildKit builds: the legacy builder. */
  builder?: Builder;
  /** Build secrets by id; the worker fetches each value from the team's secret store when BuildKit asks. */
  secrets?: string[];
  /** Images whose inline cache the build may reuse (BuildKit), pulled with the team's logins. */
  cacheFrom?: string[];
};

/** The fence of every build: the engine's limits on its RUN containers (the worker holds its deadline, as for every job). */
export interface BuildFence {
  limits: BuildLimits;
}

/**
 * `docker build`: on BuildKit (what the API asks for where the engine has it)
 * each vertex becomes a step and its output LOG lines; on the legacy builder,
 * which jobs queued before BuildKit builds also get, `Step i/N` steps.
 */
export class BuildJob implements JobHandler<JobType.BUILD> {
  readonly type = JobType.BUILD;
  /** Clears what BuildKit builds leave in their engine's cache, between builds rather than after each. */
  readonly syncedContexts: SyncedContextSweeper;

  constructor(
    private readonly engines: EngineSource,
    private readonly credentials: CredentialSource,
    private readonly contexts: ContextSource,
    private readonly fence: BuildFence,
    private readonly secrets: BuildSecretSource = NO_BUILD_SECRETS,
    syncedContextPolicy: SyncedContextPolicy = DEFAULT_SYNCED_CONTEXT_POLICY,
  ) {
    this.syncedContexts = new SyncedContextSweeper((name) => this.engines.engine(name).images.pruneSyncedContexts(), syncedContextPolicy);
  }

  async handle(job: JobContext<JobType.BUILD>): Promise<JobResultOf<JobType.BUILD>> {
    const { data, emit, stillOwned } = job;
    const engine = this.engines.engine(job.engine);
    let keepContext = false;
    let context: Readable | undefined;
    const buildkit = data.builder === Builder.BUILDKIT;
    if (buildkit) this.syncedContexts.started(job.engine);
    try {
      await this.assertLocal(engine, data.localImages ?? []);
      context = await this.contexts.open(data.contextId);
      const built = buildkit ? await this.buildKit(engine, context, job) : await this.legacy(engine, context, job);
      if (!built.imageId) throw new DrydockError(ErrorCode.BUILD_FAILED, 'the engine finished the build without naming an image');
      await this.tag(engine, built.imageId, data.tags, emit, stillOwned);
      return { ...built, imageId: built.imageId, tags: data.tags };
    } catch (caught) {
      const error = await classifyFailure(engine, caught);
      // A transient failure is retried and needs the context again.
      keepContext = isDrydockError(error) && isTransient(error.code);
      throw error;
    } finally {
      // A build that ends before reading its context to the end (a failed step, a cancel) leaves
      // the spool file open: the engine side unpipes it and the file is this handler's to close.
      context?.destroy();
      // Counted once the image is tagged; the sweeper prunes when the engine is idle, as a prune holds BuildKit's cache.
      if (buildkit) this.syncedContexts.built(job.engine, await this.contextBytes(data.contextId));
      // Not awaited: unlinking a spool file costs the kernel about 70 ms per 100 MiB, which the job's
      // outcome need not wait for (what a crash leaves behind, the store's sweep removes).
      if (!keepContext) void this.contexts.remove(data.contextId).catch(() => undefined);
    }
  }

  /** The spooled context's size, what BuildKit synced of it at most; 0 where the store keeps no file. */
  private async contextBytes(contextId: string): Promise<number> {
    const path = this.contexts.path?.(contextId);
    return path ? stat(path).then((file) => file.size, () => 0) : 0;
  }

  /**
   * BuildKit asks for logins by host and secrets by id as steps need them:
   * only the registries the build reads (FROM, COPY --from, cacheFrom) get the
   * team's login, and only the ids the job names get a secret.
   */
  private buildKit(engine: DockerEngine, context: Readable, { data, emit, signal }: JobContext<JobType.BUILD>) {
    const registries = new Set([...data.baseRegistries, ...(data.cacheFrom ?? []).map((ref) => parseReference(ref).domain)]);
    const secretIds = new Set(data.secrets ?? []);
    const state = this.contexts.state?.bind(this.contexts);
    const watch = this.contexts.watch?.bind(this.contexts);
    const messages = engine.images.buildKit(context, {
      ...passedThrough(data),
      ...(data.cacheFrom?.length ? { cacheFrom: data.cacheFrom } : {}),
      // The cache metadata goes into the image, so the image pushed serves as cache to the next build elsewhere.
      inlineCache: true,
      ...(this.contexts.path ? { contextFile: this.contexts.path(data.contextId) } : {}),
      ...(state
        ? {
            contextUpload: {
              state: () => state(data.contextId),
              ...(watch ? { watch: (onChange: () => void) => watch(data.contextId, onChange) } : {}),
            },
          }
        : {}),
      login: (host) => this.login(data.team, registries, host),
      secret: async (id) => (secretIds.has(id) ? this.secrets.secretFor(data.team, id) : null),
      signal,
    });
    return relayBuildkit(messages, emit);
  }

  private async login(team: string | null, registries: ReadonlySet<string>, host: string): Promise<BuildkitLogin | null> {
    const registry = registryOf(host);
    if (!registries.has(registry)) return null;
    const auth = await this.credentials.credentialFor(team, registry);
    return auth ? { username: auth.username, password: auth.password } : null;
  }

  private async legacy(engine: DockerEngine, context: Readable, { data, emit, signal }: JobContext<JobType.BUILD>): Promise<{ imageId: string | null }> {
    const registryConfig: Record<string, { username: string; password: string }> = {};
    for (const registry of data.baseRegistries) {
      const auth = await this.credentials.credentialFor(data.team, registry);
      if (auth) registryConfig[auth.serveraddress] = { username: auth.username, password: auth.password };
    }
    // Built untagged, tagged after: an attempt that lost the job on the way (a worker taken
    // for dead and its job retried or ended) must not move a tag once the job says otherwise.
    const messages = engine.images.build(context, {
      tags: [],
      ...passedThrough(data),
      ...(Object.keys(registryConfig).length ? { registryConfig } : {}),
      limits: this.fence.limits,
      // Cancel and deadline alike abort the engine call: the engine stops the build and removes its container.
      signal,
    });
    return relayBuild(messages, emit);
  }

  /** `docker build -t`'s last step, done here so that only the attempt holding the job does it. */
  private async tag(engine: DockerEngine, imageId: string, tags: string[], emit: JobEmit, stillOwned: () => Promise<boolean>): Promise<void> {
    if (!tags.length) return;
    if (!(await stillOwned())) {
      throw new DrydockError(ErrorCode.WORKER_LOST, `this attempt no longer holds the job: ${imageId} was built and left untagged`);
    }
    for (const tag of tags) {
      const ref = parseReference(tag);
      await engine.images.tag(imageId, ref.repository, ref.tag ?? 'latest');
      emit.log(`Successfully tagged ${tag}`);
    }
  }

  /** An image the team may not pull must still be here: the engine would pull one removed since the build was queued. */
  private async assertLocal(engine: DockerEngine, images: string[]): Promise<void> {
    for (const image of images) {
      try {
        await engine.images.inspect(image);
      } catch (error) {
        if (!isDrydockError(error) || error.code !== ErrorCode.IMAGE_NOT_FOUND) throw error;
        throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `${image} is no longer here, and the build may not pull it (outside the team's namespaces)`);
      }
    }
  }
}

/** BuildKit's resolver asks Docker Hub's login for the host it dials; the vault keeps it under `docker.io`. */
function registryOf(host: string): string {
  return host === 'registry-1.docker.io' || host === 'index.docker.io' ? 'docker.io' : host;
}

/** What both builders take as the job gives it. Undefined options are left out: the engine call would send them. */
function passedThrough(data: BuildJobData) {
  return {
    dockerfile: data.dockerfile,
    ...(data.buildArgs ? { buildArgs: data.buildArgs } : {}),
    ...(data.target ? { target: data.target } : {}),
    ...(data.labels ? { labels: data.labels } : {}),
    ...(data.platform ? { platform: data.platform } : {}),
    noCache: data.noCache ?? false,
    pull: data.pull ?? false,
  };
}
