import { relayTransfer } from '../progress';
import { JobType } from '../model';
import type { TransferJobResult } from '../contract';
import type { JobContext, JobHandler } from '../runner/handler';
import { classifyFailure } from './engine-gone';
import { untilEngineRetries } from './registry-retries';
import type { CredentialSource, EngineSource } from './sources';

export interface PullJobData {
  /** The familiar reference as pulled: `localhost:5000/team/app:1` or `...@sha256:...`. */
  reference: string;
  repository: string;
  /** A tag, or a digest for pull-by-digest (the engine takes either in `tag`). */
  tagOrDigest: string;
  /** The registry host whose credential applies (`docker.io` for Docker Hub). */
  registry: string;
  platform?: string;
  team: string | null;
}

/** `docker pull`: per-layer progress, then the image as the engine now has it. */
export class PullJob implements JobHandler<JobType.PULL> {
  readonly type = JobType.PULL;

  constructor(
    private readonly engines: EngineSource,
    private readonly credentials: CredentialSource,
  ) {}

  async handle({ data, emit, signal, engine: engineName }: JobContext<JobType.PULL>): Promise<TransferJobResult> {
    const engine = this.engines.engine(engineName);
    const auth = await this.credentials.credentialFor(data.team, data.registry);
    emit.log(`Pulling ${data.reference}`);
    const giveUp = new AbortController();
    const messages = engine.images.pull(data.repository, data.tagOrDigest, {
      ...(auth ? { auth } : {}),
      ...(data.platform ? { platform: data.platform } : {}),
      signal: AbortSignal.any([signal, giveUp.signal]),
    });
    try {
      const { digest } = await relayTransfer('pull', untilEngineRetries(messages, 'pull', giveUp), emit);
      const image = await engine.images.inspect(data.reference);
      return {
        imageId: image.id,
        ...(digest ? { digest } : {}),
        tags: image.repoTags.map((t) => `${t.repository}:${t.tag}`),
      };
    } catch (error) {
      throw await classifyFailure(engine, error);
    }
  }
}
