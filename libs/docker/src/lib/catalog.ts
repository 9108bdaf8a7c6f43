import { EventEmitter } from 'node:events';
import type { DockerEngine } from './engine';
import { compileGlob } from './glob';
import type { Image, ImageEvent } from './types';

export interface ImageFilter {
  /** Docker's `reference` filter: a glob over the familiar `repository[:tag]`. */
  reference?: string;
  dangling?: boolean;
  /** `key` or `key=value`, all must match (as `--filter label=`). */
  labels?: string[];
}

const CONTAINER_ACTIONS_THAT_COUNT = new Set(['create', 'destroy']);
const INSPECT_CONCURRENCY = 8;

/**
 * The image list, cached. The engine recomputes its list on every call, so a
 * cached list answers far faster; the engine's event stream says exactly when
 * it goes stale. While the event stream is down nothing is cached: a slower
 * answer beats a stale one. Drydock's own mutations invalidate synchronously,
 * before they answer, so a client never reads its own write stale.
 */
export class ImageCatalog {
  private snapshot: Promise<Image[]> | null = null;
  /** Inspect data by image id. Everything but tags and digests is content-addressed, hence immutable. */
  private readonly details = new Map<string, Image>();
  private live = false;
  private readonly emitter = new EventEmitter();
  private abort: AbortController | null = null;

  constructor(private readonly engine: DockerEngine) {
    this.emitter.setMaxListeners(0);
  }

  /** Follows the engine's events until stop(); reconnects with backoff when the stream drops. */
  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    void this.follow(abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    this.abort = null;
    this.live = false;
    this.snapshot = null;
  }

  /** Whether the engine's event stream is open: the engine answers, and the cache may be used. */
  get isLive(): boolean {
    return this.live;
  }

  /** Told when the event stream opens (true) or is lost (false): the engine came back, or went away. */
  onLiveChange(listener: (live: boolean) => void): () => void {
    this.emitter.on('live', listener);
    return () => this.emitter.off('live', listener);
  }

  private setLive(live: boolean): void {
    // Either way the cached list goes: while down nothing is cached, and once back it may have changed unseen.
    this.snapshot = null;
    if (this.live === live) return;
    this.live = live;
    this.emitter.emit('live', live);
  }

  invalidate(): void {
    this.snapshot = null;
  }

  /** Every image event the engine reports, for the `imageEvents` subscription. */
  onImageEvent(listener: (event: ImageEvent) => void): () => void {
    this.emitter.on('image', listener);
    return () => this.emitter.off('image', listener);
  }

  async list(filter: ImageFilter = {}): Promise<Image[]> {
    const images = await this.all();
    return filterImages(images, filter);
  }

  /** The unfiltered list; the same array object until it goes stale (callers may cache by identity). */
  all(): Promise<Image[]> {
    if (this.snapshot) return this.snapshot;
    const building = this.build();
    if (this.live) {
      this.snapshot = building;
      building.catch(() => {
        if (this.snapshot === building) this.snapshot = null;
      });
    }
    return building;
  }

  private async build(): Promise<Image[]> {
    const [rows, containers] = await Promise.all([
      this.engine.images.list(),
      this.engine.containers.list({ all: true, labelled: false }),
    ]);
    const users = new Map<string, number>();
    for (const container of containers) users.set(container.imageId, (users.get(container.imageId) ?? 0) + 1);

    const missing = rows.filter((row) => !this.details.has(row.id)).map((row) => row.id);
    for (let i = 0; i < missing.length; i += INSPECT_CONCURRENCY) {
      await Promise.all(
        missing.slice(i, i + INSPECT_CONCURRENCY).map(async (id) => {
          try {
            this.details.set(id, await this.engine.images.inspect(id));
          } catch {
            // Removed between list and inspect: the next event invalidates this list anyway.
          }
        }),
      );
    }
    const present = new Set(rows.map((row) => row.id));
    for (const id of this.details.keys()) if (!present.has(id)) this.details.delete(id);

    return rows.flatMap((row) => {
      const detail = this.details.get(row.id);
      if (!detail) return [];
      return [{ ...detail, repoTags: row.repoTags, repoDigests: row.repoDigests, containers: users.get(row.id) ?? 0 }];
    });
  }

  private async follow(signal: AbortSignal): Promise<void> {
    let backoff = 250;
    while (!signal.aborted) {
      try {
        const events = this.engine.system.events(signal, () => {
          // Only once the stream is open may a list be cached: no change can slip by unseen after this.
          this.setLive(true);
          backoff = 250;
        });
        for await (const event of events) {
          if (event.type === 'image') {
            this.snapshot = null;
            this.emitter.emit('image', event.event);
          } else if (CONTAINER_ACTIONS_THAT_COUNT.has(event.event.action)) {
            this.snapshot = null;
          }
        }
      } catch {
        // Engine away: serve uncached until it is back.
      }
      if (signal.aborted) return;
      this.setLive(false);
      await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      // Short enough that a restarted engine is followed again within a couple of seconds.
      backoff = Math.min(backoff * 2, 2_000);
    }
  }
}

export function filterImages(images: Image[], filter: ImageFilter): Image[] {
  const reference = filter.reference ? compileGlob(filter.reference) : null;
  const labels = (filter.labels ?? []).map((label) => {
    const eq = label.indexOf('=');
    return eq < 0 ? { key: label, value: undefined } : { key: label.slice(0, eq), value: label.slice(eq + 1) };
  });
  return images.filter((image) => {
    if (filter.dangling !== undefined && (image.repoTags.length === 0) !== filter.dangling) return false;
    // As Docker's FamiliarMatch over every reference of the image: tags and digests alike, so an
    // image pulled by digest only is still found by its repository (`docker images REPO` shows it as <none>).
    if (
      reference &&
      !image.repoTags.some((t) => reference.test(`${t.repository}:${t.tag}`) || reference.test(t.repository)) &&
      !image.repoDigests.some((d) => reference.test(`${d.repository}@${d.digest}`) || reference.test(d.repository))
    ) {
      return false;
    }
    return labels.every(({ key, value }) => image.labels.some((l) => l.key === key && (value === undefined || l.value === value)));
  });
}
