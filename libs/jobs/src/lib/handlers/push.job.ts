import { parseReference } from '@drydock/core';
import { relayTransfer } from '../progress';
import { JobType } from '../model';
import type { TransferJobResult } from '../contract';
import type { ExclusiveWork, JobContext, JobHandler } from '../runner/handler';
import { classifyFailure } from './engine-gone';
import { untilEngineRetries } from './registry-retries';
import type { CredentialSource, EngineSource } from './sources';

export interface PushJobData {
  repository: string;
  /** One tag, or null to push every tag of the repository (`docker push ouruser/sinatra`). */
  tag: string | null;
  /** The tags that were to be pushed, as the API resolved them (reported in the result). */
  tags: string[];
  registry: string;
  team: string | null;
}

/** `docker push`: per-layer progress; the digest the registry gave back is the result. */
export class PushJob implements JobHandler<JobType.PUSH> {
  readonly type = JobType.PUSH;

  constructor(
    private readonly engines: EngineSource,
    private readonly credentials: CredentialSource,
  ) {}

  /**
   * One push of a repository at a time: two at once upload the same blobs and
   * put the same manifest, and the registry may fail one of them. Keyed by the
   * registry host and path, so `ubuntu` and `docker.io/library/ubuntu` are one.
   */
  exclusive(data: PushJobData): ExclusiveWork {
    return { key: `push:${parseReference(data.repository).name}`, label: `the push of ${data.repository}` };
  }

  async handle({ data, emit, signal, engine: engineName }: JobContext<JobType.PUSH>): Promise<TransferJobResult> {
    const engine = this.engines.engine(engineName);
    const auth = await this.credentials.credentialFor(data.team, data.registry);
    const target = data.tag ? `${data.repository}:${data.tag}` : `${data.repository} (all tags)`;
    emit.log(`Pushing ${target}`);
    const giveUp = new AbortController();
    const messages = engine.images.push(data.repository, data.tag ?? undefined, { ...(auth ? { auth } : {}), signal: AbortSignal.any([signal, giveUp.signal]) });
    try {
      const { digest } = await relayTransfer('push', untilEngineRetries(messages, 'push', giveUp), emit);
      const image = await engine.images.inspect(`${data.repository}:${data.tag ?? data.tags[0] ?? 'latest'}`);
      return { imageId: image.id, ...(digest ? { digest } : {}), tags: data.tags.map((tag) => `${data.repository}:${tag}`) };
    } catch (error) {
      throw await classifyFailure(engine, error);
    }
  }
}
