import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, isDrydockError, isImageId, parseReference } from '@drydock/core';
import { JobState, JobType, type JobRecord } from '@drydock/jobs';
import type { ReadStream } from 'node:fs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf, viewerOf } from '../auth/requester';
import { EngineRouter } from '../engine/engine-router';
import { JobsService } from '../jobs/jobs.service';
import { ArtifactStore } from './artifact-store';

/** More would be one request asking the engine for the whole image store. */
export const MAX_EXPORT_REFERENCES = 32;

/**
 * `docker save` as an EXPORT job, and the download of its tar; the one path
 * under REST and GraphQL. An export hands out an image's whole content, so
 * every reference must lie in the caller's namespaces (admins: any), checked
 * before the engine hears of it.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly jobs: JobsService,
    private readonly namespaces: NamespacePolicy,
    @Inject(EngineRouter) private readonly router: EngineRouter,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
  ) {}

  async export(
    references: readonly string[],
    principal: Principal,
    idempotencyKey?: string,
    timeoutSeconds?: number,
    engine?: string,
  ): Promise<JobRecord> {
    const names = this.authorise(references, principal);
    // One tar comes from one engine: the one named, else the one holding the first image; every other must be there too.
    const member = await this.router.forImage(names[0] as string, engine);
    // Absent images are a 404 now rather than a failed job later.
    for (const name of names) {
      try {
        await member.engine.images.inspect(name);
      } catch (error) {
        if (!isDrydockError(error) || error.code !== ErrorCode.IMAGE_NOT_FOUND) throw error;
        throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `no image ${name} on engine ${member.name}, where this export runs: one export reads one engine`);
      }
    }
    const requester = requesterOf(principal, idempotencyKey);
    return this.jobs.accept(
      JobType.EXPORT,
      { references: names, team: requester.team },
      { requester, request: { references: names }, timeoutSeconds, engine: member.name },
    );
  }

  /** The tar of a SUCCEEDED export the caller may see (the job's team, or an admin). */
  async artifact(jobId: string, principal: Principal): Promise<{ stream: ReadStream; size: number }> {
    const job = await this.jobs.get(jobId, viewerOf(principal));
    if (job.type !== JobType.EXPORT) {
      throw new DrydockError(ErrorCode.NOT_FOUND, `job ${jobId} is a ${job.type} job; only EXPORT jobs have an artifact`);
    }
    if (job.state !== JobState.SUCCEEDED) {
      throw new DrydockError(ErrorCode.CONFLICT, `job ${jobId} is ${job.state}; its artifact exists once it has SUCCEEDED`);
    }
    const artifact = await this.artifacts.open(jobId);
    if (!artifact) throw new DrydockError(ErrorCode.NOT_FOUND, `the artifact of job ${jobId} is gone (kept for the job retention)`);
    return artifact;
  }

  /** The references as the engine names them, each one the caller's to hand out; deduplicated, in order. */
  private authorise(references: readonly string[], principal: Principal): string[] {
    if (references.length === 0) throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'an export needs at least one reference');
    if (references.length > MAX_EXPORT_REFERENCES) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `an export takes at most ${MAX_EXPORT_REFERENCES} references`);
    }
    const names = references.map((reference) => {
      if (isImageId(reference)) {
        // An id names no repository to check: only an admin may export by id.
        if (principal.role === 'admin') return reference;
        throw new DrydockError(ErrorCode.FORBIDDEN, `"${reference}" is an image id; an export by a non-admin token must name repository:tag references`);
      }
      const ref = parseReference(reference);
      this.namespaces.assertWrite(principal, ref);
      return ref.familiar;
    });
    return [...new Set(names)];
  }
}
