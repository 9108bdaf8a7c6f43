import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, isDrydockError, isImageId, parseReference } from '@drydock/core';
import { type EngineMember, EnginePool } from '@drydock/docker';
import { JobType, type JobRecord, type PullJobData, type PushJobData } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf } from '../auth/requester';
import { EngineRouter } from '../engine/engine-router';
import { JobsService } from '../jobs/jobs.service';

/** Pull and push: validated here, run as jobs by the worker. */
@Injectable()
export class TransfersService {
  constructor(
    private readonly jobs: JobsService,
    private readonly namespaces: NamespacePolicy,
    @Inject(EngineRouter) private readonly router: EngineRouter,
    @Inject(EnginePool) private readonly pool: EnginePool,
  ) {}

  /** `docker pull` by tag or digest. The same pull already in flight is shared: the same job comes back. */
  async pull(
    reference: string,
    platform: string | undefined,
    principal: Principal,
    idempotencyKey?: string,
    timeoutSeconds?: number,
    engine?: string,
  ): Promise<JobRecord> {
    if (isImageId(reference)) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `"${reference}" is an image id; a pull needs a repository reference`);
    }
    const ref = parseReference(reference);
    // A pull creates a local name: it is a write into the caller's namespaces.
    this.namespaces.assertWrite(principal, ref);
    const requester = requesterOf(principal, idempotencyKey);
    const tagOrDigest = ref.digest ?? ref.effectiveTag ?? 'latest';
    const familiar = ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${tagOrDigest}`;
    const data: PullJobData = {
      reference: familiar,
      repository: ref.repository,
      tagOrDigest,
      registry: ref.domain,
      ...(platform ? { platform } : {}),
      team: requester.team,
    };
    const member = await this.router.forNewWork(engine);
    return this.jobs.accept(JobType.PULL, data, {
      requester,
      engine: member.name,
      timeoutSeconds,
      request: { reference: familiar, ...(platform ? { platform } : {}) },
      dedupKey: `pull:${requester.team}:${familiar}:${platform ?? ''}`,
    });
  }

  /** `docker push`: one tag, or with `allTags` every local tag of the repository. */
  async push(
    reference: string,
    allTags: boolean,
    principal: Principal,
    idempotencyKey?: string,
    timeoutSeconds?: number,
    engine?: string,
  ): Promise<JobRecord> {
    if (isImageId(reference)) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `"${reference}" is an image id; push needs a repository reference`);
    }
    const ref = parseReference(reference);
    if (ref.digest) throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot push a digest reference "${reference}"`);
    this.namespaces.assertWrite(principal, ref);
    const requester = requesterOf(principal, idempotencyKey);
    const { member, tags } = await this.pushSource(ref.repository, allTags ? null : (ref.effectiveTag ?? 'latest'), engine);
    const data: PushJobData = {
      repository: ref.repository,
      tag: allTags ? null : (ref.effectiveTag ?? 'latest'),
      tags,
      registry: ref.domain,
      team: requester.team,
    };
    return this.jobs.accept(JobType.PUSH, data, {
      requester,
      engine: member.name,
      timeoutSeconds,
      request: { reference: allTags ? ref.repository : `${ref.repository}:${data.tag}`, allTags, tags },
    });
  }

  /**
   * The engine a push reads from and the tags it pushes there: the engine
   * named, else the one engine holding the tag (with allTags, any tag of the
   * repository). On several, AMBIGUOUS_ENGINE: the same name may be different
   * images there, and which one reaches the registry is the caller's choice.
   */
  private async pushSource(repository: string, tag: string | null, engine?: string): Promise<{ member: EngineMember; tags: string[] }> {
    const candidates = engine ? [this.pool.get(engine)] : this.pool.all;
    const found = await Promise.all(candidates.map(async (member) => ({ member, tags: await localTags(member, repository, tag, candidates.length > 1) })));
    const holders = found.filter((entry) => entry.tags.length > 0);
    const what = tag === null ? `any tag of ${repository}` : `${repository}:${tag}`;
    if (holders.length === 0) {
      throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `no local image is ${what}${engine ? ` on engine ${engine}` : ''}`);
    }
    if (holders.length > 1) {
      const names = holders.map((entry) => entry.member.name);
      throw new DrydockError(ErrorCode.AMBIGUOUS_ENGINE, `${what} is on engines ${names.join(', ')}: name one with engine`, { details: { engines: names } });
    }
    return holders[0] as { member: EngineMember; tags: string[] };
  }
}

/** The tags of `repository` on one engine (only `tag`, unless null), sorted; an engine that does not answer has none when others are asked too. */
async function localTags(member: EngineMember, repository: string, tag: string | null, others: boolean): Promise<string[]> {
  let images;
  try {
    images = await member.catalog.all();
  } catch (error) {
    if (others && isDrydockError(error) && error.code === ErrorCode.ENGINE_UNAVAILABLE) return [];
    throw error;
  }
  const tags = images.flatMap((image) => image.repoTags).filter((t) => t.repository === repository).map((t) => t.tag);
  return [...new Set(tags)].filter((t) => tag === null || t === tag).sort();
}
