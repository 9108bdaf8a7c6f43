import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { engineCall, toDomainError } from './engine-errors';
import { decodeProgress, type EngineMessage } from './stream';
import { imageFromInspect, isoFromUnix, labels, repoDigests, repoTags } from './mapping';
import type { BuildkitMessage, BuildkitOptions } from './buildkit/trace';
import { buildWithBuildkit, pruneSyncedContexts } from './buildkit/build';
import type { Image, ImageLayer, Label, PruneResult, RegistryAuth, RemoveImageResult, RepoDigest, RepoTag, SearchResult } from './types';

/** One row of the engine's image list: what /images/json gives without an inspect. */
export interface ImageListRow {
  id: string;
  repoTags: RepoTag[];
  repoDigests: RepoDigest[];
  created: string;
  size: number;
  labels: Label[];
}

export interface PruneOptions {
  /** true (default): only dangling images, as `docker image prune`; false: every unused image, as `-a`. */
  dangling?: boolean;
  until?: string;
  labels?: string[];
}

export interface PullOptions {
  auth?: RegistryAuth;
  platform?: string;
  signal?: AbortSignal;
}

export interface PushOptions {
  auth?: RegistryAuth;
  signal?: AbortSignal;
}

export interface BuildOptions {
  tags: string[];
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  platform?: string;
  /** Credentials for the registries the Dockerfile's FROM lines pull from (X-Registry-Config). */
  registryConfig?: Record<string, { username: string; password: string }>;
  limits?: BuildLimits;
  signal?: AbortSignal;
}

/** What the legacy builder lets a caller fence its RUN containers with (no pids limit, caps or no-new-privileges). */
export interface BuildLimits {
  memoryBytes: number;
  nanoCpus: number;
  /** RLIMIT_NPROC of RUN steps: the build API has no pids limit, and the kernel does not apply this one to root. */
  nproc: number;
  nofile: number;
  shmBytes: number;
  network: 'none' | 'default';
}

const CPU_PERIOD_US = 100_000;

/** The Engine API's build query parameters for `limits` (API 1.41: memory, memswap, cpuperiod, cpuquota, shmsize, ulimits, networkmode). */
export function buildLimitParams(limits: BuildLimits): Record<string, unknown> {
  return {
    memory: limits.memoryBytes,
    // memswap is memory plus swap: equal to memory means no swap at all.
    memswap: limits.memoryBytes,
    cpuperiod: CPU_PERIOD_US,
    cpuquota: Math.max(1000, Math.round((limits.nanoCpus / 1e9) * CPU_PERIOD_US)),
    shmsize: limits.shmBytes,
    ulimits: JSON.stringify([
      { Name: 'nproc', Soft: limits.nproc, Hard: limits.nproc },
      { Name: 'nofile', Soft: limits.nofile, Hard: limits.nofile },
    ]),
    networkmode: limits.network,
  };
}

/** What callers see of the engine's images: the seam an in-memory fake stands in for in unit specs. */
export type ImageClient = Pick<ImageOperations, keyof ImageOperations>;

/** Image operations over the engine, typed in Drydock's terms. */
export class ImageOperations {
  constructor(private readonly docker: Dockerode) {}

  async list(): Promise<ImageListRow[]> {
    const rows = await engineCall('engine', () => this.docker.listImages({ digests: true }));
    return rows.map((row) => ({
      id: row.Id,
      repoTags: repoTags(row.RepoTags),
      repoDigests: repoDigests(row.RepoDigests),
      created: isoFromUnix(row.Created),
      size: row.Size,
      labels: labels(row.Labels),
    }));
  }

  /** Inspects by reference, id or digest. `containers` is left 0: counting needs the container list. */
  async inspect(ref: string): Promise<Image> {
    const data = await engineCall('image', () => this.docker.getImage(ref).inspect());
    return imageFromInspect(data, 0);
  }

  async history(ref: string): Promise<ImageLayer[]> {
    const rows = await engineCall('image', () => this.docker.getImage(ref).history() as Promise<HistoryRow[]>);
    return rows.map((row) => ({
      // The engine says '<missing>' for layers pulled from a registry: they have no local image id.
      id: row.Id,
      created: isoFromUnix(row.Created),
      createdBy: row.CreatedBy ?? '',
      size: row.Size,
      comment: row.Comment ?? '',
      tags: row.Tags ?? [],
    }));
  }

  async tag(source: string, repository: string, tag: string): Promise<void> {
    await engineCall('image', () => this.docker.getImage(source).tag({ repo: repository, tag }));
  }

  async remove(ref: string, options: { force?: boolean; noprune?: boolean }): Promise<RemoveImageResult> {
    const rows = (await engineCall('image', () =>
      this.docker.getImage(ref).remove({ force: options.force ?? false, noprune: options.noprune ?? false }),
    )) as Array<{ Untagged?: string; Deleted?: string }>;
    return {
      untagged: rows.flatMap((row) => (row.Untagged ? [row.Untagged] : [])),
      deleted: rows.flatMap((row) => (row.Deleted ? [row.Deleted] : [])),
    };
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const filters: Record<string, string[]> = { dangling: [String(options.dangling ?? true)] };
    if (options.until) filters['until'] = [options.until];
    if (options.labels?.length) filters['label'] = options.labels;
    const result = await engineCall('engine', () => this.docker.pruneImages({ filters }));
    return {
      deleted: (result.ImagesDeleted ?? []).flatMap((row) => [row.Untagged, row.Deleted].filter((v): v is string => !!v)),
      spaceReclaimed: result.SpaceReclaimed ?? 0,
    };
  }

  /** `docker search` through the engine, which asks Docker Hub (or the registry in the term). */
  async search(term: string, limit: number, filters: { isOfficial?: boolean; minStars?: number }): Promise<SearchResult[]> {
    const engineFilters: Record<string, string[]> = {};
    if (filters.isOfficial !== undefined) engineFilters['is-official'] = [String(filters.isOfficial)];
    if (filters.minStars !== undefined) engineFilters['stars'] = [String(filters.minStars)];
    const rows = (await engineCall('registry', () =>
      this.docker.searchImages({ term, limit, filters: JSON.stringify(engineFilters) }),
    )) as SearchRow[];
    return rows.map((row) => ({
      name: row.name,
      description: row.description ?? '',
      stars: row.star_count ?? 0,
      official: row.is_official ?? false,
      automated: row.is_automated ?? false,
      registry: 'docker.io',
    }));
  }

  /** Pulls `repository` at `tagOrDigest`; yields progress, throws the stream's error classified. */
  async *pull(repository: string, tagOrDigest: string, options: PullOptions = {}): AsyncGenerator<EngineMessage> {
    const body = (await engineCall('registry', () =>
      this.docker.createImage({
        fromImage: repository,
        tag: tagOrDigest,
        ...(options.platform ? { platform: options.platform } : {}),
        ...(options.auth ? { authconfig: options.auth } : {}),
        ...(options.signal ? { abortSignal: options.signal } : {}),
      }),
    )) as Readable;
    yield* streamWithAbort(body, ErrorCode.REGISTRY_ERROR);
  }

  /** Pushes one tag, or every tag of the repository when `tag` is undefined (as `docker push repo` did). */
  async *push(repository: string, tag: string | undefined, options: PushOptions = {}): AsyncGenerator<EngineMessage> {
    const image = this.docker.getImage(repository);
    const body = (await engineCall('image', () =>
      image.push({
        ...(tag ? { tag } : {}),
        // The engine insists on an X-Registry-Auth header, even an empty one.
        authconfig: options.auth ?? { username: '', password: '', serveraddress: '' },
        ...(options.signal ? { abortSignal: options.signal } : {}),
      }),
    )) as Readable;
    yield* streamWithAbort(body, ErrorCode.REGISTRY_ERROR);
  }

  /**
   * `docker save`: the references' images as one tar stream (GET /images/get). The caller owns the
   * stream: destroying it ends the engine's response.
   */
  async save(references: readonly string[]): Promise<Readable> {
    // dockerode's typings lack getImages; its names option becomes names=a&names=b.
    const docker = this.docker as unknown as { getImages(options: { names: string[] }): Promise<Readable> };
    return engineCall('image', () => docker.getImages({ names: [...references] }));
  }

  /** Builds from a tar context stream with the legacy builder; yields the build's messages. */
  async *build(context: Readable, options: BuildOptions): AsyncGenerator<EngineMessage> {
    const body = (await engineCall('engine', () =>
      this.docker.buildImage(context, {
        t: options.tags,
        ...(options.dockerfile ? { dockerfile: options.dockerfile } : {}),
        ...(options.buildArgs ? { buildargs: options.buildArgs } : {}),
        ...(options.target ? { target: options.target } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.platform ? { platform: options.platform } : {}),
        nocache: options.noCache ?? false,
        pull: options.pull ? 'true' : '',
        // Intermediate containers go even when a step fails or the build is cancelled.
        rm: true,
        forcerm: true,
        ...(options.registryConfig ? { registryconfig: options.registryConfig } : {}),
        ...(options.limits ? buildLimitParams(options.limits) : {}),
        ...(options.signal ? { abortSignal: options.signal } : {}),
      } as unknown as Dockerode.ImageBuildOptions),
    )) as Readable;
    yield* streamWithAbort(body, ErrorCode.BUILD_FAILED);
  }

  /** Builds from a tar context stream with BuildKit (`/build?version=2`), the image left untagged; yields the decoded trace. */
  buildKit(context: Readable, options: BuildkitOptions): AsyncGenerator<BuildkitMessage> {
    return buildWithBuildkit(this.docker, context, options);
  }

  /** Drops the contexts BuildKit synced for builds that are over (see pruneSyncedContexts): run once a build is done with. */
  pruneSyncedContexts(): Promise<void> {
    return engineCall('engine', () => pruneSyncedContexts(this.docker));
  }
}

interface HistoryRow {
  Id: string;
  Created: number;
  CreatedBy?: string;
  Size: number;
  Comment?: string;
  Tags?: string[] | null;
}

interface SearchRow {
  name: string;
  description?: string;
  star_count?: number;
  is_official?: boolean;
  is_automated?: boolean;
}

async function* streamWithAbort(body: Readable, failure: ErrorCode): AsyncGenerator<EngineMessage> {
  try {
    yield* decodeProgress(body, failure);
  } catch (error) {
    throw toDomainError(error, 'engine');
  } finally {
    body.destroy();
  }
}
