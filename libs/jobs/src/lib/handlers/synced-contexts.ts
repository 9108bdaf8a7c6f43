/**
 * When to prune the contexts BuildKit synced for finished builds (see the
 * engine's pruneSyncedContexts): a prune holds BuildKit's cache while it
 * deletes, and the build that starts meanwhile waits for it (about 80 ms on a
 * small build here, as long as the build's own file sync). So not after every
 * build: once no build of this worker has run on the engine for `idleMs`, or
 * at once when enough has piled up since the last prune to matter on the
 * engine's disk.
 */
export interface SyncedContextPolicy {
  /** Prune this long after the last build ended, when none has started since. */
  idleMs: number;
  /** Prune at once when the contexts synced since the last prune reach this many bytes... */
  maxBytes: number;
  /** ...or this many builds. */
  maxBuilds: number;
}

export const DEFAULT_SYNCED_CONTEXT_POLICY: SyncedContextPolicy = {
  idleMs: 5_000,
  maxBytes: 1024 ** 3,
  maxBuilds: 100,
};

interface Pending {
  /** Builds of this worker running on the engine: no idle prune while there are. */
  running: number;
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

  /** A BuildKit build on `engine` starts: the engine is not idle until it ends. */
  started(engine: string): void {
    const pending = this.pending(engine);
    pending.running++;
    stopTimer(pending);
  }

  /** A BuildKit build on `engine` that started is over; its context had `bytes`. */
  built(engine: string, bytes: number): void {
    const pending = this.pending(engine);
    pending.running = Math.max(0, pending.running - 1);
    pending.bytes += bytes;
    pending.builds++;
    if (pending.bytes >= this.policy.maxBytes || pending.builds >= this.policy.maxBuilds) return this.sweep(engine);
    if (pending.running > 0) return;
    stopTimer(pending);
    // Unref'd: a worker that stops leaves the rest to the next build's prune.
    pending.timer = setTimeout(() => this.sweep(engine), this.policy.idleMs).unref();
  }

  /** Resolves once every prune started so far is over. */
  async settled(): Promise<void> {
    await Promise.all([...this.engines.values()].map((pending) => pending.chain));
  }

  /** Forgets the timers; prunes already running finish on their own. */
  close(): void {
    for (const pending of this.engines.values()) clearTimeout(pending.timer);
    this.engines.clear();
  }

  private pending(engine: string): Pending {
    let pending = this.engines.get(engine);
    if (!pending) this.engines.set(engine, (pending = { running: 0, bytes: 0, builds: 0, timer: undefined, chain: Promise.resolve() }));
    return pending;
  }

  private sweep(engine: string): void {
    const pending = this.engines.get(engine);
    if (!pending) return;
    stopTimer(pending);
    pending.bytes = 0;
    pending.builds = 0;
    // A failed prune leaves the snapshots for the next one: the build it followed has succeeded anyway.
    pending.chain = pending.chain.then(() => this.prune(engine)).catch(() => undefined);
  }
}

function stopTimer(pending: Pending): void {
  clearTimeout(pending.timer);
  pending.timer = undefined;
}
