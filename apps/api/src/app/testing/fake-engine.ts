import { DrydockError, ErrorCode, parseReference } from '@drydock/core';
import { Builder, type CommitOptions, type ContainerClient, type ContainerDetail, type Image, type ImageClient, type ListOptions } from '@drydock/docker';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** One call the services made of the engine, in order: a refused request must leave this empty. */
export interface EngineCall {
  method: string;
  args: unknown[];
}

function notFaked(method: string): () => never {
  return () => {
    throw new Error(`the fake engine has no ${method}: no service rule under test should need it`);
  };
}

function imageId(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** `repo:tag` as the engine stores a name: a reference without a tag is `:latest`. */
function stored(name: string): { repository: string; tag: string } {
  const ref = parseReference(name);
  return { repository: ref.repository, tag: ref.effectiveTag ?? 'latest' };
}

/**
 * The engine as an in-memory store of images and containers, answering as the
 * real adapter does (IMAGE_NOT_FOUND, CONTAINER_NOT_FOUND) and recording every
 * call. Only what the API services ask of the engine is here; the rest throws.
 */
export class FakeEngine {
  readonly calls: EngineCall[] = [];
  /** The builders `system.info` says the engine offers. */
  builders: Builder[] = [Builder.BUILDKIT, Builder.LEGACY];
  private readonly imageStore = new Map<string, Image>();
  private readonly containerStore = new Map<string, ContainerDetail>();

  readonly images: ImageClient = {
    list: notFaked('images.list'),
    inspect: async (ref) => this.record('images.inspect', [ref], () => this.image(ref)),
    history: async (ref) =>
      this.record('images.history', [ref], () => [{ id: this.image(ref).id, created: '', createdBy: 'RUN true', size: 0, comment: '', tags: [] }]),
    tag: async (source, repository, tag) =>
      this.record('images.tag', [source, repository, tag], () => {
        for (const image of this.imageStore.values()) image.repoTags = image.repoTags.filter((t) => t.repository !== repository || t.tag !== tag);
        this.image(source).repoTags.push({ repository, tag });
      }),
    remove: async (ref, options) =>
      this.record('images.remove', [ref, options], () => {
        const image = this.image(ref);
        this.imageStore.delete(image.id);
        return { untagged: image.repoTags.map((t) => `${t.repository}:${t.tag}`), deleted: [image.id] };
      }),
    prune: async (options) => this.record('images.prune', [options], () => ({ deleted: [], spaceReclaimed: 0 })),
    pruneSyncedContexts: async () => this.record('images.pruneSyncedContexts', [], () => undefined),
    search: notFaked('images.search'),
    pull: notFaked('images.pull'),
    push: notFaked('images.push'),
    save: async (references) => this.record('images.save', [references], () => Readable.from([Buffer.from('tar')])),
    build: notFaked('images.build'),
    buildKit: notFaked('images.buildKit'),
  };

  readonly system = {
    info: async () => ({ version: '20.10', apiVersion: '1.41', builders: this.builders }),
    ping: async (): Promise<void> => undefined,
  };

  readonly containers: ContainerClient = {
    create: notFaked('containers.create'),
    start: notFaked('containers.start'),
    attach: notFaked('containers.attach'),
    logs: notFaked('containers.logs'),
    wait: notFaked('containers.wait'),
    stop: notFaked('containers.stop'),
    remove: async (id, force) => this.record('containers.remove', [id, force], () => void this.containerStore.delete(this.container(id).id)),
    inspect: async (id) => this.record('containers.inspect', [id], () => this.container(id)),
    list: async (options: ListOptions) =>
      this.record('containers.list', [options], () =>
        [...this.containerStore.values()].filter((c) => Object.entries(options.withLabels ?? {}).every(([k, v]) => c.labels[k] === v)),
      ),
    commit: async (id: string, options: CommitOptions) =>
      this.record('containers.commit', [id, options], () => this.addImage(`${options.repository}:${options.tag}`)),
  };

  /** An image carrying `names` (`repo[:tag]`); its id derives from the first name, or `seed` for an unnamed one. */
  addImage(...names: string[]): Image {
    const id = imageId(names[0] ?? `unnamed-${this.imageStore.size}`);
    const image: Image = {
      id,
      shortId: id.slice(7, 19),
      repoTags: names.map(stored),
      repoDigests: [],
      created: '2026-01-01T00:00:00Z',
      size: 1,
      labels: [],
      architecture: 'amd64',
      os: 'linux',
      author: '',
      comment: '',
      config: { cmd: null, entrypoint: null, env: [], workingDir: '', user: '', exposedPorts: [] },
      containers: 0,
    };
    this.imageStore.set(id, image);
    return image;
  }

  addContainer(detail: Partial<ContainerDetail> & { id: string }): ContainerDetail {
    const container: ContainerDetail = {
      shortId: detail.id.slice(0, 12),
      name: `/c-${detail.id.slice(0, 6)}`,
      image: 'img',
      imageId: imageId('img'),
      command: 'true',
      created: '2026-01-01T00:00:00Z',
      state: 'exited',
      status: 'Exited (0)',
      labels: {},
      running: false,
      exitCode: 0,
      startedAt: null,
      finishedAt: null,
      cmd: [],
      env: [],
      workingDir: '',
      user: '',
      managed: true,
      ...detail,
    };
    this.containerStore.set(container.id, container);
    return container;
  }

  /** Every image, as the catalogue lists them. */
  allImages(): Image[] {
    return [...this.imageStore.values()].map((image) => ({ ...image, repoTags: [...image.repoTags] }));
  }

  /** The engine calls whose method starts with `prefix` (`images.`, `containers.commit`). */
  callsTo(prefix: string): EngineCall[] {
    return this.calls.filter((call) => call.method.startsWith(prefix));
  }

  private record<T>(method: string, args: unknown[], answer: () => T): T {
    this.calls.push({ method, args });
    return answer();
  }

  /** Resolves ids, id prefixes and `repo:tag`, as the engine does for an engineName. */
  private image(ref: string): Image {
    const hex = ref.startsWith('sha256:') ? ref.slice(7) : /^[a-f0-9]{12,64}$/.test(ref) ? ref : null;
    for (const image of this.imageStore.values()) {
      if (hex !== null ? image.id.slice(7).startsWith(hex) : image.repoTags.some((t) => `${t.repository}:${t.tag}` === ref)) return image;
    }
    throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `No such image: ${ref}`);
  }

  private container(id: string): ContainerDetail {
    for (const container of this.containerStore.values()) if (container.id.startsWith(id)) return container;
    throw new DrydockError(ErrorCode.CONTAINER_NOT_FOUND, `No such container: ${id}`);
  }
}
