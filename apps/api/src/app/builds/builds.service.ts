import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, parseReference } from '@drydock/core';
import { Builder, checkDockerfile, type EngineMember } from '@drydock/docker';
import { JobType, type BuildJobData, type JobRecord } from '@drydock/jobs';
import type { Readable } from 'node:stream';
import { EngineRouter } from '../engine/engine-router';
import { JobsService } from '../jobs/jobs.service';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf, type Requester } from '../auth/requester';
import { ContextStore, type StoredContext } from './context-store';
import { checkSourceImages } from './source-images';
import { BuildSecrets } from '../secrets/build-secrets.service';
import { chooseBuilder, offeredBuilders } from './builder-choice';
import { CONTEXT_PATH, ContextOrder, type BuildImageInput } from './builds.dto';

/** What a caller may ask of a build; the rest of the job data is the service's to fill in. */
export type BuildOptions = Omit<BuildJobData, 'contextId' | 'dockerfile' | 'baseRegistries' | 'localImages' | 'team'> & {
  /** How the tar's entries are ordered: `SORTED` (BuildKit's walk order) lets the build start while it arrives. */
  contextOrder?: ContextOrder;
  /** `-f`: the Dockerfile's path inside the context (default `Dockerfile`). */
  dockerfilePath?: string;
  /** The job's time limit, capped by the BUILD limit. */
  timeoutSeconds?: number;
  /** The engine to build on; absent, the healthy engine with the fewest waiting jobs. */
  engine?: string;
};

/** How long the engine's builders are taken as known: an engine changes them only when upgraded. */
const BUILDERS_TTL_MS = 60_000;

/** Inline files are for small contexts; larger ones are uploaded as a tar. */
const INLINE_FILES_MAX_BYTES = 4 * 1024 * 1024;

function stringMap(value: Record<string, unknown> | undefined, what: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const entries = Object.entries(value);
  if (entries.length > 256) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${what}: at most 256 entries`);
  for (const [key, v] of entries) {
    if (typeof v !== 'string' || !key || key.length > 256 || v.length > 64 * 1024) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${what}: "${key.slice(0, 64)}" must map a name to a string`);
    }
  }
  return value as Record<string, string>;
}

/** Builds: the context is spooled and the Dockerfile checked before anything is queued. */
@Injectable()
export class BuildsService {
  /** Per engine: engines of one deployment may run different versions, and only some have BuildKit. */
  private readonly offered = new Map<string, { at: number; value: Promise<Builder[]> }>();

  constructor(
    private readonly jobs: JobsService,
    private readonly namespaces: NamespacePolicy,
    @Inject(ContextStore) private readonly contexts: ContextStore,
    @Inject(EngineRouter) private readonly router: EngineRouter,
    private readonly secrets: BuildSecrets,
  ) {}

  /** The JSON (and GraphQL) form: an inline Dockerfile with small files, or a context uploaded before. */
  async fromBody(body: BuildImageInput, principal: Principal, idempotencyKey?: string): Promise<JobRecord> {
    const requester = this.authorise(principal, body.tags, idempotencyKey);
    const { tags, dockerfilePath, buildArgs, target, labels, noCache, pull, platform, timeoutSeconds, builder, secrets, cacheFrom } = body;
    const asked: BuildOptions = { tags, dockerfilePath, buildArgs, target, labels, noCache, pull, platform, timeoutSeconds, builder, secrets, cacheFrom };
    const member = await this.router.forNewWork(body.engine);
    const options = await this.withBuilder(asked, principal, member);
    if (body.contextUploadId !== undefined) {
      if (body.dockerfile !== undefined || body.files !== undefined) {
        throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'give either contextUploadId or dockerfile (+ files), not both');
      }
      return this.fromUpload(body.contextUploadId, options, principal, requester, member);
    }
    if (body.dockerfile === undefined) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'dockerfile (or contextUploadId) is required');
    }
    return this.fromInline(body.dockerfile, body.files ?? {}, options, principal, requester, member);
  }

  /**
   * A tar (or gzipped tar) context, streamed in. Sent in walk order
   * (`contextOrder=sorted`) for BuildKit, the build is queued as soon as the
   * Dockerfile is in and the worker serves the rest as it arrives; the answer
   * still waits for the whole upload, and an upload refused after that fails
   * the build with the same error. A request with an Idempotency-Key is
   * queued only once its upload is whole, so a retry after a cut upload
   * builds instead of finding that failed job.
   */
  async fromTar(body: Readable, options: BuildOptions, principal: Principal, idempotencyKey?: string): Promise<JobRecord> {
    const requester = this.authorise(principal, options.tags, idempotencyKey);
    this.checkOptions(options);
    const member = await this.router.forNewWork(options.engine);
    const chosen = await this.withBuilder(options, principal, member);
    const sorted = options.contextOrder === ContextOrder.SORTED;
    const overlap = sorted && chosen.builder === Builder.BUILDKIT && idempotencyKey === undefined;
    let queued: JobRecord | undefined;
    const stored = await this.contexts.receive(body, options.dockerfilePath ?? 'Dockerfile', requester, {
      sorted,
      ...(overlap
        ? {
            onDockerfile: async (early: StoredContext) => {
              queued = await this.queue(early, chosen, principal, requester, member);
            },
          }
        : {}),
    });
    return queued ?? this.queue(stored, chosen, principal, requester, member);
  }

  /** A context uploaded before, to build later (GraphQL cannot carry a tar); only the uploader's team may build from it. */
  upload(body: Readable, principal: Principal): Promise<StoredContext> {
    // Any Dockerfile name may be chosen at build time: do not require one now.
    return this.contexts.receive(body, null, requesterOf(principal));
  }

  private async fromUpload(id: string, options: BuildOptions, principal: Principal, requester: Requester, member: EngineMember): Promise<JobRecord> {
    this.checkOptions(options);
    const dockerfile = await this.contexts.dockerfileOf(id, options.dockerfilePath ?? 'Dockerfile', requester.team);
    return this.queue({ id, size: 0, dockerfile }, options, principal, requester, member);
  }

  private async fromInline(
    dockerfile: string,
    files: Record<string, string>,
    options: BuildOptions,
    principal: Principal,
    requester: Requester,
    member: EngineMember,
  ): Promise<JobRecord> {
    this.checkOptions(options);
    const decoded: Record<string, Buffer> = {};
    let total = 0;
    for (const [path, content] of Object.entries(files)) {
      if (!CONTEXT_PATH.test(path)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `files: "${path.slice(0, 80)}" must be a relative path inside the context`);
      if (typeof content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) {
        throw new DrydockError(ErrorCode.VALIDATION_FAILED, `files: "${path}" must be base64`);
      }
      decoded[path] = Buffer.from(content, 'base64');
      total += decoded[path].length;
      if (total > INLINE_FILES_MAX_BYTES) {
        throw new DrydockError(ErrorCode.PAYLOAD_TOO_LARGE, `inline files over ${INLINE_FILES_MAX_BYTES} bytes: upload a tar context instead`);
      }
    }
    // Checked before the context is written, so a bad Dockerfile leaves nothing behind.
    const summary = checkDockerfile(dockerfile, stringMap(options.buildArgs, 'buildArgs'), options.target);
    await checkSourceImages(principal, summary.images, options.pull ?? false, this.namespaces, member.engine);
    const stored = await this.contexts.fromFiles(dockerfile, options.dockerfilePath ?? 'Dockerfile', decoded, requester);
    return this.queue(stored, options, principal, requester, member);
  }

  /** The builder resolved and its options checked, before any context is read or written. */
  private async withBuilder(options: BuildOptions, principal: Principal, member: EngineMember): Promise<BuildOptions> {
    const { builder, secrets, cacheFrom, ...rest } = options;
    const choice = await chooseBuilder({ builder, secrets, cacheFrom }, principal, this.namespaces, () => this.builders(member));
    await this.assertSecretsExist(choice.secrets ?? [], principal);
    return { ...rest, ...choice };
  }

  /** A secret the team lacks would mount nothing (or fail a `required` mount) deep into the build: refused here. */
  private async assertSecretsExist(ids: readonly string[], principal: Principal): Promise<void> {
    if (ids.length === 0) return;
    const missing = await this.secrets.exists(principal.team, ids);
    if (missing.length > 0) {
      throw new DrydockError(ErrorCode.SECRET_NOT_FOUND, `team ${principal.team} has no build secret ${missing.join(', ')}`);
    }
  }

  private builders(member: EngineMember): Promise<Builder[]> {
    const now = Date.now();
    let offered = this.offered.get(member.name);
    if (!offered || now - offered.at > BUILDERS_TTL_MS) {
      const value = offeredBuilders(member.engine);
      offered = { at: now, value };
      this.offered.set(member.name, offered);
      // A failed look-up is not kept: the next build asks again.
      value.catch(() => {
        if (this.offered.get(member.name)?.value === value) this.offered.delete(member.name);
      });
    }
    return offered.value;
  }

  /** Every `-t` must be a tag the caller may write, checked before the context is even read. */
  private authorise(principal: Principal, tags: string[], idempotencyKey?: string): Requester {
    this.namespaces.assertWriteAll(principal, tags);
    return requesterOf(principal, idempotencyKey);
  }

  private checkOptions(options: BuildOptions): void {
    for (const tag of options.tags) {
      const ref = parseReference(tag);
      if (ref.digest) throw new DrydockError(ErrorCode.INVALID_REFERENCE, `a build tag cannot be a digest reference: "${tag}"`);
    }
    stringMap(options.buildArgs, 'buildargs');
    stringMap(options.labels, 'labels');
  }

  private async queue(stored: StoredContext, options: BuildOptions, principal: Principal, requester: Requester, member: EngineMember): Promise<JobRecord> {
    let summary;
    let localImages;
    try {
      summary = checkDockerfile(stored.dockerfile, options.buildArgs, options.target);
      localImages = await checkSourceImages(principal, summary.images, options.pull ?? false, this.namespaces, member.engine);
    } catch (error) {
      await this.contexts.remove(stored.id);
      throw error;
    }
    const tags = options.tags.map((tag) => {
      const ref = parseReference(tag);
      return `${ref.repository}:${ref.effectiveTag}`;
    });
    // Undefined options vanish when BullMQ stores the data as JSON.
    const data: BuildJobData = {
      contextId: stored.id,
      dockerfile: options.dockerfilePath ?? 'Dockerfile',
      tags,
      buildArgs: options.buildArgs,
      target: options.target,
      labels: options.labels,
      noCache: options.noCache ?? false,
      pull: options.pull ?? false,
      platform: options.platform,
      baseRegistries: [...new Set([...summary.baseImages, ...summary.copyFromImages].map((image) => parseReference(image).domain))],
      localImages,
      team: requester.team,
      builder: options.builder,
      secrets: options.secrets,
      cacheFrom: options.cacheFrom,
    };
    // Build args can carry secrets: the record shows their names only.
    const request = { ...data, buildArgs: Object.keys(options.buildArgs ?? {}), steps: summary.steps };
    let job: JobRecord;
    try {
      job = await this.jobs.accept(JobType.BUILD, data, { requester, request, timeoutSeconds: options.timeoutSeconds, engine: member.name });
    } catch (error) {
      await this.contexts.remove(stored.id);
      throw error;
    }
    // A retry (the same Idempotency-Key) is answered with the job it already has, which builds another context:
    // this one would otherwise hold the team's context quota until the sweep.
    if (job.request['contextId'] !== stored.id) await this.contexts.remove(stored.id);
    return job;
  }
}
