import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, isImageId, parseReference } from '@drydock/core';
import { ImageCatalog } from '@drydock/docker';
import { JobType, type JobRecord, type PullJobData, type PushJobData } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf } from '../auth/requester';
import { JobsService } from '../jobs/jobs.service';

/** Pull and push: validated here, run as jobs by the worker. */
@Injectable()
export class TransfersService {
  constructor(
    private readonly jobs: JobsService,
    private readonly namespaces: NamespacePolicy,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
  ) {}

  /** `docker pull` by tag or digest. The same pull already in flight is shared: the same job comes back. */
  async pull(
    reference: string,
    platform: string | undefined,
    principal: Principal,
    idempotencyKey?: string,
    timeoutSeconds?: number,
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
    return this.jobs.accept(JobType.PULL, data, {
      requester,
      timeoutSeconds,
      request: { reference: familiar, ...(platform ? { platform } : {}) },
      dedupKey: `pull:${requester.team}:${familiar}:${platform ?? ''}`,
    });
  }

  /** `docker push`: one tag, or with `allTags` every local tag of the repository. */
  async push(reference: string, allTags: boolean, principal: Principal, idempotencyKey?: string, timeoutSeconds?: number): Promise<JobRecord> {
    if (isImageId(reference)) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `"${reference}" is an image id; push needs a repository reference`);
    }
    const ref = parseReference(reference);
    if (ref.digest) throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot push a digest reference "${reference}"`);
    this.namespaces.assertWrite(principal, ref);
    const requester = requesterOf(principal, idempotencyKey);
    const images = await this.catalog.all();
    const localTags = images.flatMap((image) => image.repoTags).filter((t) => t.repository === ref.repository).map((t) => t.tag);
    const tags = allTags ? [...new Set(localTags)].sort() : localTags.filter((tag) => tag === ref.effectiveTag);
    if (tags.length === 0) {
      const what = allTags ? `any tag of ${ref.repository}` : `${ref.repository}:${ref.effectiveTag}`;
      throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `no local image is ${what}`);
    }
    const data: PushJobData = {
      repository: ref.repository,
      tag: allTags ? null : (ref.effectiveTag ?? 'latest'),
      tags,
      registry: ref.domain,
      team: requester.team,
    };
    return this.jobs.accept(JobType.PUSH, data, {
      requester,
      timeoutSeconds,
      request: { reference: allTags ? ref.repository : `${ref.repository}:${data.tag}`, allTags, tags },
    });
  }
}
