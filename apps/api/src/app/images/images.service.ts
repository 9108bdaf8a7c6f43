import { Inject, Injectable, Optional } from '@nestjs/common';
import { DrydockError, ErrorCode, isImageId, parseReference, parseRepository, validateTag } from '@drydock/core';
import { DockerEngine, ImageCatalog, RegistryClient, type Image, type ImageFilter, type ImageLayer, type PruneResult, type RemoveImageResult, type SearchResult } from '@drydock/docker';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { normaliseRegistryHost, RegistryCredentials } from '../registries/registry-credentials.service';
import { redactHistory } from './history-redaction';
import { engineName } from './image-ref';
import { WebhookDispatcher } from '../webhooks/webhook-queue';

export interface ListFilter {
  reference?: string;
  dangling?: boolean;
  label?: string[];
}

export interface SearchQuery {
  term: string;
  limit?: number;
  registry?: string;
  isOfficial?: boolean;
  minStars?: number;
}

const SEARCH_DEFAULT_LIMIT = 25;

/** The one service under the images REST controller and GraphQL resolver. */
@Injectable()
export class ImagesService {
  /**
   * The serialised unfiltered list, per catalogue snapshot: most list calls
   * are just a buffer write. A Buffer, not a string: Fastify would otherwise
   * measure and encode the string again on every response (bench/adapters).
   */
  private readonly serialised = new WeakMap<Image[], Buffer>();

  constructor(
    @Inject(DockerEngine) private readonly engine: DockerEngine,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
    private readonly policy: NamespacePolicy,
    private readonly vault: RegistryCredentials,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(filter: ListFilter = {}): Promise<Image[]> {
    return this.catalog.list(this.catalogFilter(filter));
  }

  /** The list as JSON bytes; the unfiltered list is serialised once per change of the engine's images. */
  async listJson(filter: ListFilter = {}): Promise<Buffer> {
    if (filter.reference === undefined && filter.dangling === undefined && !filter.label?.length) {
      const all = await this.catalog.all();
      let json = this.serialised.get(all);
      if (json === undefined) {
        json = Buffer.from(JSON.stringify(all));
        this.serialised.set(all, json);
      }
      return json;
    }
    return Buffer.from(JSON.stringify(await this.list(filter)));
  }

  async inspect(ref: string): Promise<Image> {
    const image = await this.engine.images.inspect(engineName(ref));
    const listed = (await this.catalog.all()).find((candidate) => candidate.id === image.id);
    return { ...image, containers: listed?.containers ?? 0 };
  }

  /** Like inspect, but null when the image is absent (GraphQL `image` is nullable). */
  async find(ref: string): Promise<Image | null> {
    try {
      return await this.inspect(ref);
    } catch (error) {
      if (error instanceof DrydockError && error.code === ErrorCode.IMAGE_NOT_FOUND) return null;
      throw error;
    }
  }

  /**
   * `docker history`. The engine writes build args into a RUN step's createdBy (`|1 TOKEN=...`):
   * a caller sees their values only in steps of images within its namespaces (see redactHistory).
   */
  async history(ref: string, principal?: Principal): Promise<ImageLayer[]> {
    const name = engineName(ref);
    if (!principal || principal.role === 'admin') return this.engine.images.history(name);
    const [layers, image] = await Promise.all([this.engine.images.history(name), this.engine.images.inspect(name)]);
    const names = [...image.repoTags.map((t) => `${t.repository}:${t.tag}`), ...image.repoDigests.map((d) => d.repository)];
    return redactHistory(layers, names, (owner) => this.policy.ownsAll(principal, owner));
  }

  /**
   * `docker tag SOURCE REPOSITORY[:TAG]`; an existing tag on another image is a 409 unless forced.
   * With a principal (a caller's request) the target must be within its namespaces, checked before
   * any engine call; without one (internal use) it is not checked.
   */
  @Optional() @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher | null = null;

  async tag(source: string, repository: string, tag: string | undefined, force = false, principal?: Principal): Promise<Image> {
    const sourceName = engineName(source);
    const target = tag === undefined ? parseReference(repository) : parseRepository(repository);
    if (target.digest) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot tag into a digest reference "${repository}"`);
    }
    const targetTag = validateTag(tag ?? target.effectiveTag ?? 'latest');
    if (principal) this.policy.assertWrite(principal, target);
    const sourceImage = await this.engine.images.inspect(sourceName);
    if (!force) {
      const existing = await this.find(`${target.repository}:${targetTag}`);
      if (existing && existing.id !== sourceImage.id) {
        throw new DrydockError(
          ErrorCode.TAG_EXISTS,
          `${target.repository}:${targetTag} already names image ${existing.shortId}; pass force to move it`,
        );
      }
    }
    await this.engine.images.tag(sourceImage.id, target.repository, targetTag);
    this.catalog.invalidate();
    await this.webhooks?.imageTagged(principal, sourceImage.id, `${target.repository}:${targetTag}`);
    return this.inspect(sourceImage.id);
  }

  async remove(ref: string, options: { force?: boolean; noprune?: boolean }, principal?: Principal): Promise<RemoveImageResult> {
    if (principal) await this.assertMayRemove(principal, ref);
    try {
      return await this.engine.images.remove(engineName(ref), options).then((result) => this.webhooks?.imageRemoved(principal, ref, result) ?? result);
    } finally {
      this.catalog.invalidate();
    }
  }

  async prune(options: { dangling?: boolean; until?: string; labels?: string[] }): Promise<PruneResult> {
    try {
      return await this.engine.images.prune(options);
    } finally {
      this.catalog.invalidate();
    }
  }

  /**
   * With `registry`, only a registry the caller's team holds a credential for (which it then uses)
   * or one in DRYDOCK_REGISTRIES_ALLOW is asked: otherwise a viewer could make Drydock probe any
   * host and port it can reach. Refused before any network call.
   */
  async search(query: SearchQuery, principal?: Principal): Promise<SearchResult[]> {
    const limit = query.limit ?? SEARCH_DEFAULT_LIMIT;
    if (!query.registry) {
      return this.engine.images.search(query.term, limit, { isOfficial: query.isOfficial, minStars: query.minStars });
    }
    // A private registry has no search: list its catalogue and match names, as `docker search` would.
    const host = normaliseRegistryHost(query.registry);
    const credential = principal ? await this.vault.credentialFor(principal.team, host) : null;
    if (!credential && !this.config.registriesAllow.includes(host)) {
      throw new DrydockError(
        ErrorCode.FORBIDDEN,
        `registry ${host} may not be searched: your team stores no credential for it and it is not in DRYDOCK_REGISTRIES_ALLOW`,
      );
    }
    const client = new RegistryClient(query.registry, credential ? { username: credential.username, password: credential.password } : undefined, {
      realmHosts: this.config.registriesAllow,
    });
    const term = query.term.toLowerCase();
    const names = await client.catalog(1000);
    return names
      .filter((name) => name.toLowerCase().includes(term))
      .filter(() => query.isOfficial !== true && (query.minStars ?? 0) <= 0)
      .slice(0, limit)
      .map((name) => ({ name: `${query.registry}/${name}`, description: '', stars: 0, official: false, automated: false, registry: query.registry as string }));
  }

  /** By reference: that repository must be the caller's. By id: every name the image carries must be; an unnamed image is admin's. */
  private async assertMayRemove(principal: Principal, ref: string): Promise<void> {
    if (principal.role === 'admin') return;
    if (!isImageId(ref) && !ref.startsWith('sha256:')) {
      this.policy.assertWrite(principal, ref);
      return;
    }
    const image = await this.engine.images.inspect(engineName(ref));
    const names = [...image.repoTags.map((t) => `${t.repository}:${t.tag}`), ...image.repoDigests.map((d) => d.repository)];
    if (names.length === 0) {
      throw new DrydockError(ErrorCode.FORBIDDEN, `image ${image.shortId} has no name in any namespace; only an admin may remove it`);
    }
    this.policy.assertWriteAll(principal, names);
  }

  private catalogFilter(filter: ListFilter): ImageFilter {
    return {
      ...(filter.reference !== undefined ? { reference: filter.reference } : {}),
      ...(filter.dangling !== undefined ? { dangling: filter.dangling } : {}),
      ...(filter.label?.length ? { labels: filter.label } : {}),
    };
  }
}
