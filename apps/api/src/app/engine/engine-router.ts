import { DrydockError, ErrorCode, isDrydockError } from '@drydock/core';
import type { EngineMember, EnginePool } from '@drydock/docker';
import type { EngineLoad } from '@drydock/jobs';
import { bounded } from './bounded';

/**
 * Where work goes when the request names no engine. Work on an image (push,
 * run, tag, remove, export) goes where the image is; new work (pull, build)
 * to the healthy engine with the fewest waiting jobs. A request that names an
 * engine gets that one, healthy or not: its jobs wait there until it is back.
 */
export class EngineRouter {
  private turn = 0;

  constructor(
    private readonly pool: EnginePool,
    private readonly load: (engine: string) => Promise<EngineLoad>,
  ) {}

  /** The engine a request names, or the first (the only one, in a single-engine deployment) when it names none. */
  named(name?: string | null): EngineMember {
    return name ? this.pool.get(name) : this.pool.first;
  }

  /**
   * The engine that holds `ref` (a name, id or digest, as the engine resolves
   * it). Held by none: IMAGE_NOT_FOUND; by several: AMBIGUOUS_ENGINE (409)
   * with the candidates, since the same name may be different images there.
   */
  async forImage(ref: string, requested?: string | null): Promise<EngineMember> {
    if (requested) return this.pool.get(requested);
    const { holders, away } = await this.search(ref);
    if (holders.length === 1) return holders[0] as EngineMember;
    if (holders.length === 0 && away.length) {
      throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `no engine that answers has the image ${ref}; ${away.join(', ')} did not answer`);
    }
    if (holders.length === 0) throw new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `no engine has the image ${ref}`);
    const names = holders.map((member) => member.name);
    throw new DrydockError(ErrorCode.AMBIGUOUS_ENGINE, `the image ${ref} is on engines ${names.join(', ')}: name one with engine`, {
      details: { engines: names },
    });
  }

  /** The engines that hold `ref`, in configuration order; engines that do not answer are left out. */
  async holdersOf(ref: string): Promise<EngineMember[]> {
    return (await this.search(ref)).holders;
  }

  /** Asks every engine at once: the engine resolves the name as it would for the work itself. */
  private async search(ref: string): Promise<{ holders: EngineMember[]; away: string[] }> {
    const members = this.pool.all;
    // One engine: the work's own call says whether the image is there, as it always has.
    if (members.length === 1) return { holders: members, away: [] };
    const found = await Promise.all(
      members.map(async (member): Promise<'held' | 'absent' | 'away'> => {
        try {
          // Bounded: a tcp:// engine that is gone may never refuse, and must not hold up the answer.
          await bounded(member.engine.images.inspect(ref));
          return 'held';
        } catch (error) {
          if (isDrydockError(error) && error.code === ErrorCode.IMAGE_NOT_FOUND) return 'absent';
          if (isDrydockError(error) && error.code === ErrorCode.ENGINE_UNAVAILABLE) return 'away';
          throw error;
        }
      }),
    );
    return {
      holders: members.filter((_, i) => found[i] === 'held'),
      away: members.filter((_, i) => found[i] === 'away').map((member) => member.name),
    };
  }

  /**
   * For new work: the healthy engine with the fewest waiting jobs (then the
   * fewest running, then configuration order). None healthy: the first, where
   * the job waits until its engine is back rather than being refused.
   */
  async forNewWork(requested?: string | null): Promise<EngineMember> {
    if (requested) return this.pool.get(requested);
    const healthy = this.pool.all.filter((member) => member.catalog.isLive);
    if (healthy.length <= 1) return healthy[0] ?? this.pool.first;
    const loads = await Promise.all(healthy.map((member) => this.load(member.name)));
    // Ties take turns: a burst that finds every engine idle would otherwise all go to the first.
    const start = this.turn++ % healthy.length;
    let best = start;
    for (let step = 1; step < healthy.length; step++) {
      const i = (start + step) % healthy.length;
      const a = loads[i] as EngineLoad;
      const b = loads[best] as EngineLoad;
      if (a.waiting < b.waiting || (a.waiting === b.waiting && a.running < b.running)) best = i;
    }
    return healthy[best] as EngineMember;
  }
}
