import { Inject, Injectable, Optional } from '@nestjs/common';
import { DrydockError, ErrorCode, isImageId, parseReference, parseRepository, validateTag } from '@drydock/core';
import { EnginePool, RegistryClient, type EngineMember, type Image, filterImages, type ImageFilter, type ImageLayer, type PruneResult, type RemoveImageResult, type SearchResult } from '@drydock/docker';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { EngineRouter } from '../engine/engine-router';
import { MergedCatalog, mergeImages, type HeldImage } from '../engine/merged-catalog';
import { normaliseRegistryHost, RegistryCredentials } from '../registries/registry-credentials.service';
import { redactHistory } from './history-redaction';
import { engineName } from './image-ref';
import { WebhookDispatcher } from '../webhooks/webhook-queue';

export interface ListFilter {
  reference?: string;
  dangling?: boolean;
  label?: string[];
  /** One engine's images; without it, every engine's, merged. */
  engine?: string;
}

export interface SearchQuery {
  term: string;
  limit?: number;
  registry?: string;
  isOfficial?: boolean;
  minStars?: number;
}

/** An engine that holds an image, with the image as that engine has it. */
interface Holding {
  member: EngineMember;
  image: Image;
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
  private readonly serialised = new WeakMap<HeldImage[], Buffer>();

  constructor(
    @Inject(EnginePool) private readonly pool: EnginePool,
    @Inject(MergedCatalog) private readonly catalog: MergedCatalog,
    @Inject(EngineRouter) private readonly router: EngineRouter,
    private readonly policy: NamespacePolicy,
    private readonly vault: RegistryCredentials,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(filter: ListFilter = {}): Promise<HeldImage[]> {
    return filterImages(await this.snapshot(filter.engine), this.catalogFilter(filter)) as HeldImage[];
  }

  /** The list as JSON bytes; the unfiltered list is serialised once per change of the engines' images. */
  async listJson(filter: ListFilter = {}): Promise<Buffer> {
    if (filter.reference === undefined && filter.dangling === undefined && !filter.label?.length) {
      const all = await this.snapshot(filter.engine);
      let json = this.serialised.get(all);
      if (json === undefined) {
        json = Buffer.from(JSON.stringify(all));
        this.serialised.set(all, json);
      }
      return json;
    }
    return Buffer.from(JSON.stringify(await this.list(filter)));
  }

  /** The engine's answer, or (without one) every holder's: one image naming them all, or 409 where they hold different images. */
  async inspect(ref: string, engine?: string | null): Promise<HeldImage> {
    const holders = await this.holding(engineName(ref), engine);
    const parts = await Promise.all(
      holders.map(async ({ member, image }) => {
        const listed = await member.catalog.all().catch(() => []);
        const containers = listed.find((candidate) => candidate.id === image.id)?.containers ?? 0;
        return { engine: member.name, images: [{ ...image, containers }] };
      }),
    );
    // The holders hold the same id (holding() says so): one entry.
    return mergeImages(parts)[0] as HeldImage;
  }

  /** Like inspect, but null when the image is absent (GraphQL `image` is nullable). */
  async find(ref: string, engine?: string | null): Promise<HeldImage | null> {
    try {
      return await this.inspect(ref, engine);
    } catch (error) {
      if (error instanceof DrydockError && error.code === ErrorCode.IMAGE_NOT_FOUND) return null;
      throw error;
    }
  }

  /**
   * `docker history`. The engine writes build args into a RUN step's createdBy (`|1 TOKEN=...`):
   * a caller sees their values only in steps of images within its namespaces (see redactHistory).
   */
  async history(ref: string, principal?: Principal, engine?: string | null): Promise<ImageLayer[]> {
    const name = engineName(ref);
    const [{ member, image }] = (await this.holding(name, engine)) as [Holding];
    const layers = await member.engine.images.history(name);
    if (!principal || principal.role === 'admin') return layers;
    const names = [...image.repoTags.map((t) => `${t.repository}:${t.tag}`), ...image.repoDigests.map((d) => d.repository)];
    return redactHistory(layers, names, (owner) => this.policy.ownsAll(principal, owner));
  }

  /**
   * `docker tag SOURCE REPOSITORY[:TAG]`, on the engine that holds SOURCE (or the one named); an
   * existing tag on another image there is a 409 unless forced. With a principal (a caller's
   * request) the target must be within its namespaces, checked before any engine call; without
   * one (internal use) it is not checked.
   */
  @Optional() @Inject(WebhookDispatcher) private readonly webhooks: WebhookDispatcher | null = null;

  async tag(source: string, repository: string, tag: string | undefined, force = false, principal?: Principal, engine?: string | null): Promise<HeldImage> {
    const sourceName = engineName(source);
    const target = tag === undefined ? parseReference(repository) : parseRepository(repository);
    if (target.digest) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot tag into a digest reference "${repository}"`);
    }
    const targetTag = validateTag(tag ?? target.effectiveTag ?? 'latest');
    if (principal) this.policy.assertWrite(principal, target);
    const member = await this.router.forImage(sourceName, engine);
    const sourceImage = await member.engine.images.inspect(sourceName);
    if (!force) {
      const existing = await this.find(`${target.repository}:${targetTag}`, member.name);
      if (existing && existing.id !== sourceImage.id) {
        throw new DrydockError(
          ErrorCode.TAG_EXISTS,
          `${target.repository}:${targetTag} already names image ${existing.shortId}; pass force to move it`,
        );
      }
    }
    await member.engine.images.tag(sourceImage.id, target.repository, targetTag);
    member.catalog.invalidate();
    await this.webhooks?.imageTagged(principal, sourceImage.id, `${target.repository}:${targetTag}`);
    return this.inspect(sourceImage.id, member.name);
  }

  /** Removes the image from the engine that holds it (or the one named); held by several, the caller names one. */
  async remove(ref: string, options: { force?: boolean; noprune?: boolean }, principal?: Principal, engine?: string | null): Promise<RemoveImageResult> {
    const name = engineName(ref);
    const byName = !isImageId(ref) && !ref.startsWith('sha256:');
    // A name is checked before any engine is asked; an id only says whose it is once inspected.
    if (principal && byName) this.assertMayRemoveName(principal, ref);
    const member = await this.router.forImage(name, engine);
    if (principal && !byName) await this.assertMayRemoveId(principal, member, name);
    try {
      return await member.engine.images.remove(name, options).then((result) => this.webhooks?.imageRemoved(principal, ref, result) ?? result);
    } finally {
      member.catalog.invalidate();
    }
  }

  /** The engine named, or every engine that answers, their results summed. */
  async prune(options: { dangling?: boolean; until?: string; labels?: string[]; engine?: string | null }): Promise<PruneResult> {
    const { engine, ...filters } = options;
    const healthy = this.pool.all.filter((member) => member.catalog.isLive);
    // None live: ask them all anyway, so the caller gets the engine's own refusal rather than an empty success.
    const targets = engine ? [this.pool.get(engine)] : healthy.length ? healthy : this.pool.all;
    const settled = await Promise.allSettled(
      targets.map(async (member) => {
        try {
          return await member.engine.images.prune(filters);
        } finally {
          member.catalog.invalidate();
        }
      }),
    );
    const done = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (done.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
    return { deleted: done.flatMap((result) => result.deleted), spaceReclaimed: done.reduce((sum, result) => sum + result.spaceReclaimed, 0) };
  }

  /**
   * With `registry`, only a registry the caller's team holds a credential for (which it then uses)
   * or one in DRYDOCK_REGISTRIES_ALLOW is asked: otherwise a viewer could make Drydock probe any
   * host and port it can reach. Refused before any network call.
   */
  async search(query: SearchQuery, principal?: Principal): Promise<SearchResult[]> {
    const limit = query.limit ?? SEARCH_DEFAULT_LIMIT;
    if (!query.registry) {
      return this.pool.first.engine.images.search(query.term, limit, { isOfficial: query.isOfficial, minStars: query.minStars });
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

  /**
   * The engines holding `name` with what each holds: the one named, else every holder. Holders
   * of different images under one name are ambiguous (the router says so, naming them); holders
   * of the same id are one answer.
   */
  private async holding(name: string, engine?: string | null): Promise<Holding[]> {
    if (engine) {
      const member = this.pool.get(engine);
      return [{ member, image: await member.engine.images.inspect(name) }];
    }
    const members = await this.router.holdersOf(name);
    const settled = await Promise.allSettled(members.map(async (member) => ({ member, image: await member.engine.images.inspect(name) })));
    const holders = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (holders.length === 0 || new Set(holders.map((h) => h.image.id)).size > 1) {
      // The router gives the refusal (none, or ambiguous); should the holders have changed meanwhile, its one holder answers.
      const member = await this.router.forImage(name);
      if (holders.length === 0 && settled[0]?.status === 'rejected') throw settled[0].reason;
      return [{ member, image: await member.engine.images.inspect(name) }];
    }
    return holders;
  }

  /** By reference: that repository must be the caller's. */
  private assertMayRemoveName(principal: Principal, ref: string): void {
    if (principal.role !== 'admin') this.policy.assertWrite(principal, ref);
  }

  /** By id: every name the image carries must be the caller's; an unnamed image is admin's. */
  private async assertMayRemoveId(principal: Principal, member: EngineMember, name: string): Promise<void> {
    if (principal.role === 'admin') return;
    const image = await member.engine.images.inspect(name);
    const names = [...image.repoTags.map((t) => `${t.repository}:${t.tag}`), ...image.repoDigests.map((d) => d.repository)];
    if (names.length === 0) {
      throw new DrydockError(ErrorCode.FORBIDDEN, `image ${image.shortId} has no name in any namespace; only an admin may remove it`);
    }
    this.policy.assertWriteAll(principal, names);
  }

  private snapshot(engine?: string | null): Promise<HeldImage[]> {
    return engine ? this.catalog.of(engine) : this.catalog.all();
  }

  private catalogFilter(filter: ListFilter): ImageFilter {
    return {
      ...(filter.reference !== undefined ? { reference: filter.reference } : {}),
      ...(filter.dangling !== undefined ? { dangling: filter.dangling } : {}),
      ...(filter.label?.length ? { labels: filter.label } : {}),
    };
  }
}
