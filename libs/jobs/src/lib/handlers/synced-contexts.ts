/**
 * When to prune the contexts BuildKit synced for finished builds (see the
 * engine's pruneSyncedContexts): a prune holds BuildKit's cache while it
 * deletes, and the build that starts meanwhile waits for it (about 80 ms on a
 * small build here, as long as the build's own file sync). So not after every
 * build: once the engine has been left alone for `idleMs`, or at once when
 * enough has piled up since the last prune to matter on the engine's disk.
 */
export interface SyncedContextPolicy {
  /** Prune this long after the last build, when no other has ended since. */
  idleMs: number;
  /** Prune at once when the contexts synced since the last prune reach this many bytes... */
  maxBytes: number;
  /** ...or this many builds. */
  maxBuilds: number;
}

export const DEFAULT_SYNCED_CONTEXT_POLICY: SyncedContextPolicy = {
  idleMs: 3_000,
  maxBytes: 1024 ** 3,
  maxBuilds: 100,
};

interface Pending {
  bytes: number;
  builds: number;
  timer: NodeJS.Timeout | undefined;
  /** Prunes of one engine run one after another. */
  chain: Promise<void>;
}

/** Per engine, what its finished BuildKit builds left in its cache, and the prune that clears it. */
export class SyncedContextSweeper {
  private readonly engines = new Map<string, Pending>();

  constructor(
    private readonly prune: (engine: string) => Promise<void>,
    private readonly policy: SyncedContextPolicy = DEFAULT_SYNCED_CONTEXT_POLICY,
  ) {}

  /** A BuildKit build on `engine` is over; its context had `bytes`. */
  built(engine: string, bytes: number): void {
    let pending = this.engines.get(engine);
    if (!pending) this.engines.set(engine, (pending = { bytes: 0, builds: 0, timer: undefined, chain: Promise.resolve() }));
    pending.bytes += bytes;
    pending.builds++;
    clearTimeout(pending.timer);
    pending.timer = undefined;
    if (pending.bytes >= this.policy.maxBytes || pending.builds >= this.policy.maxBuilds) return this.sweep(engine);
    // Unref'd: a worker that stops leaves the rest to the next build's prune.
    pending.timer = setTimeout(() => this.sweep(engine), this.policy.idleMs).unref();
  }

  /** Resolves once every prune started so far is over (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.engines.values()].map((pending) => pending.chain));
  }

  /** Forgets the timers; prunes already running finish on their own. */
  close(): void {
    for (const pending of this.engines.values()) clearTimeout(pending.timer);
    this.engines.clear();
  }

  private sweep(engine: string): void {
    const pending = this.engines.get(engine);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.bytes = 0;
    pending.builds = 0;
    // A failed prune leaves the snapshots for the next one: the build it followed has succeeded anyway.
    pending.chain = pending.chain.then(() => this.prune(engine)).catch(() => undefined);
  }
}
