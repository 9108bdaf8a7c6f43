import type { EngineMember, EnginePool, Image, ImageEvent } from '@drydock/docker';
import { bounded } from './bounded';

/** An image as the API shows it: with the engines that hold it. */
export type HeldImage = Image & { engines: string[] };

export type EngineImageEvent = ImageEvent & { engine: string };

/** A live catalogue answers from its cache or from an engine that just spoke; a silent engine gets a bounded try. */
function snapshotOf(member: EngineMember): Promise<Image[]> {
  return member.catalog.isLive ? member.catalog.all() : bounded(member.catalog.all());
}

function union<T>(a: T[], b: T[], key: (item: T) => string): T[] {
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((item) => !seen.has(key(item)))];
}

/**
 * One entry per image id, naming every engine that holds it: the same id is
 * the same content wherever it is. Names and digests are the union of each
 * engine's (a tag may be on one engine only), containers the sum.
 */
export function mergeImages(parts: ReadonlyArray<{ engine: string; images: readonly Image[] }>): HeldImage[] {
  const byId = new Map<string, HeldImage>();
  for (const { engine, images } of parts) {
    for (const image of images) {
      const seen = byId.get(image.id);
      if (!seen) {
        byId.set(image.id, { ...image, engines: [engine] });
        continue;
      }
      seen.engines.push(engine);
      seen.repoTags = union(seen.repoTags, image.repoTags, (t) => `${t.repository}:${t.tag}`);
      seen.repoDigests = union(seen.repoDigests, image.repoDigests, (d) => `${d.repository}@${d.digest}`);
      seen.containers += image.containers;
    }
  }
  return [...byId.values()];
}

/**
 * Every engine's catalogue as one. The merged list is the same array object
 * for as long as no engine's snapshot changes, so callers may cache by
 * identity (the serialised REST list, the GraphQL images cache) as they did
 * with one catalogue. An engine that does not answer is left out of the
 * merged list; only when none answers does the list fail.
 */
export class MergedCatalog {
  private last: { parts: ReadonlyArray<Image[] | null>; merged: HeldImage[] } | null = null;
  private readonly single = new WeakMap<Image[], HeldImage[]>();

  constructor(private readonly pool: EnginePool) {}

  /** One engine's images (UNKNOWN_ENGINE for a name there is not; ENGINE_UNAVAILABLE while it is down). */
  async of(name: string): Promise<HeldImage[]> {
    const member = this.pool.get(name);
    const images = await snapshotOf(member);
    let held = this.single.get(images);
    if (!held) {
      held = images.map((image) => ({ ...image, engines: [member.name] }));
      this.single.set(images, held);
    }
    return held;
  }

  async all(): Promise<HeldImage[]> {
    const members = this.pool.all;
    const settled = await Promise.allSettled(members.map(snapshotOf));
    const parts = settled.map((result) => (result.status === 'fulfilled' ? result.value : null));
    if (parts.every((part) => part === null)) throw (settled[0] as PromiseRejectedResult).reason;
    const last = this.last;
    if (last && last.parts.length === parts.length && last.parts.every((part, i) => part === parts[i])) return last.merged;
    const merged = mergeImages(members.flatMap((member, i) => (parts[i] ? [{ engine: member.name, images: parts[i] as Image[] }] : [])));
    this.last = { parts, merged };
    return merged;
  }

  /** Every engine's image events, each naming its engine. */
  onImageEvent(listener: (event: EngineImageEvent) => void): () => void {
    const offs = this.pool.all.map((member) => member.catalog.onImageEvent((event) => listener({ ...event, engine: member.name })));
    return () => offs.forEach((off) => off());
  }
}
