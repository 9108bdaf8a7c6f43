import { DrydockError, ErrorCode, isDrydockError, isTransient, type BuildOptions, type DockerEngine } from '@drydock/docker';
import { relayBuild } from '../progress';
import { JobType, type JobResult } from '../model';
import type { JobContext, JobHandler } from '../runner';
import type { ContextSource, CredentialSource } from './sources';

/** The engine's build options as job data: no credentials (the worker fetches them) and no signal. */
export type BuildJobData = Omit<BuildOptions, 'dockerfile' | 'registryConfig' | 'signal'> & {
  contextId: string;
  /** `-f`: the Dockerfile's path inside the context. */
  dockerfile: string;
  /** Registries the Dockerfile's FROM lines pull from: their credentials go to the engine (X-Registry-Config). */
  baseRegistries: string[];
  team: string | null;
};

/** `docker build` with the legacy builder: `Step i/N` steps and every output line become events. */
export class BuildJob implements JobHandler<BuildJobData> {
  readonly type = JobType.BUILD;

  constructor(
    private readonly engine: DockerEngine,
    private readonly credentials: CredentialSource,
    private readonly contexts: ContextSource,
  ) {}

  async handle({ data, emit, signal }: JobContext<BuildJobData>): Promise<JobResult> {
    const registryConfig: Record<string, { username: string; password: string }> = {};
    for (const registry of data.baseRegistries) {
      const auth = await this.credentials.credentialFor(data.team, registry);
      if (auth) registryConfig[auth.serveraddress] = { username: auth.username, password: auth.password };
    }
    let keepContext = false;
    try {
      const context = await this.contexts.open(data.contextId);
      const messages = this.engine.images.build(context, {
        tags: data.tags,
        dockerfile: data.dockerfile,
        ...(data.buildArgs ? { buildArgs: data.buildArgs } : {}),
        ...(data.target ? { target: data.target } : {}),
        ...(data.labels ? { labels: data.labels } : {}),
        ...(data.platform ? { platform: data.platform } : {}),
        noCache: data.noCache ?? false,
        pull: data.pull ?? false,
        ...(Object.keys(registryConfig).length ? { registryConfig } : {}),
        signal,
      });
      const { imageId } = await relayBuild(messages, emit);
      if (!imageId) throw new DrydockError(ErrorCode.BUILD_FAILED, 'the engine finished the build without naming an image');
      return { imageId, tags: data.tags };
    } catch (error) {
      // A transient failure is retried and needs the context again.
      keepContext = isDrydockError(error) && isTransient(error.code);
      throw error;
    } finally {
      if (!keepContext) await this.contexts.remove(data.contextId).catch(() => undefined);
    }
  }
}
