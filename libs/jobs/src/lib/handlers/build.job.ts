import { DrydockError, ErrorCode, isDrydockError, isTransient, parseReference } from '@drydock/core';
import { type BuildLimits, type BuildOptions, type Builder, type DockerEngine } from '@drydock/docker';
import type { JobEmit } from '../emitter';
import { relayBuild } from '../progress';
import { JobType } from '../model';
import type { JobResultOf } from '../contract';
import type { JobContext, JobHandler } from '../runner/handler';
import { classifyFailure } from './engine-gone';
import type { ContextSource, CredentialSource } from './sources';

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

/** `docker build` with the legacy builder: `Step i/N` steps and every output line become events. */
export class BuildJob implements JobHandler<JobType.BUILD> {
  readonly type = JobType.BUILD;

  constructor(
    private readonly engine: DockerEngine,
    private readonly credentials: CredentialSource,
    private readonly contexts: ContextSource,
    private readonly fence: BuildFence,
  ) {}

  async handle({ data, emit, signal, stillOwned }: JobContext<JobType.BUILD>): Promise<JobResultOf<JobType.BUILD>> {
    const registryConfig: Record<string, { username: string; password: string }> = {};
    for (const registry of data.baseRegistries) {
      const auth = await this.credentials.credentialFor(data.team, registry);
      if (auth) registryConfig[auth.serveraddress] = { username: auth.username, password: auth.password };
    }
    let keepContext = false;
    try {
      await this.assertLocal(data.localImages ?? []);
      const context = await this.contexts.open(data.contextId);
      // Built untagged, tagged after: an attempt that lost the job on the way (a worker taken
      // for dead and its job retried or ended) must not move a tag once the job says otherwise.
      const messages = this.engine.images.build(context, {
        tags: [],
        dockerfile: data.dockerfile,
        ...(data.buildArgs ? { buildArgs: data.buildArgs } : {}),
        ...(data.target ? { target: data.target } : {}),
        ...(data.labels ? { labels: data.labels } : {}),
        ...(data.platform ? { platform: data.platform } : {}),
        noCache: data.noCache ?? false,
        pull: data.pull ?? false,
        ...(Object.keys(registryConfig).length ? { registryConfig } : {}),
        limits: this.fence.limits,
        // Cancel and deadline alike abort the engine call: the engine stops the build and removes its container.
        signal,
      });
      const { imageId } = await relayBuild(messages, emit);
      if (!imageId) throw new DrydockError(ErrorCode.BUILD_FAILED, 'the engine finished the build without naming an image');
      await this.tag(imageId, data.tags, emit, stillOwned);
      return { imageId, tags: data.tags };
    } catch (caught) {
      const error = await classifyFailure(this.engine, caught);
      // A transient failure is retried and needs the context again.
      keepContext = isDrydockError(error) && isTransient(error.code);
      throw error;
    } finally {
      if (!keepContext) await this.contexts.remove(data.contextId).catch(() => undefined);
    }
  }

  /** `docker build -t`'s last step, done here so that only the attempt holding the job does it. */
  private async tag(imageId: string, tags: string[], emit: JobEmit, stillOwned: () => Promise<boolean>): Promise<void> {
    if (!tags.length) return;
    if (!(await stillOwned())) {
      throw new DrydockError(ErrorCode.WORKER_LOST, `this attempt no longer holds the job: ${imageId} was built and left untagged`);
    }
    for (const tag of tags) {
      const ref = parseReference(tag);
      await this.engine.images.tag(imageId, ref.repository, ref.tag ?? 'latest');
      emit.log(`Successfully tagged ${tag}`);
    }
  }

  /** An image the team may not pull must still be here: the engine would pull one removed since the build was queued. */
  private async assertLocal(images: string[]): Promise<void> {
    for (const image of images) {
      try {
        await this.engine.images.inspect(image);
      } catch (error) {
        if (!isDrydockError(error) || error.code !== ErrorCode.IMAGE_NOT_FOUND) throw error;
        throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `${image} is no longer here, and the build may not pull it (outside the team's namespaces)`);
      }
    }
  }
}
