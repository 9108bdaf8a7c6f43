import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import { EnginePool, type ContainerState, type EngineMember } from '@drydock/docker';
import { RUN_LABELS } from '@drydock/jobs';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** States a container leaves only by being started again or removed. */
const STOPPED: readonly ContainerState[] = ['created', 'exited', 'dead'];

/** How often to look, from the age that makes a container stale: often enough to be on time, rarely enough to cost nothing. */
export function sweepIntervalMs(staleAfterSeconds: number): number {
  return Math.min(Math.max((staleAfterSeconds * 1000) / 4, 15_000), 15 * 60_000);
}

/**
 * Removes Drydock's stopped containers once they have been stopped (or, never
 * started, created) for longer than `run.staleAfterSeconds`, so a busy service
 * does not fill the engine's disk with finished runs. Commit what you want to
 * keep before then.
 *
 * Each installation sweeps only the containers it made (its key prefix is on
 * them), so installations sharing an engine keep their own ages.
 *
 * It is part of the workers (ContainersWorkerModule): RUN containers are
 * made there, and API replicas scaled out for traffic should not each sweep
 * the same engine. Two sweepers racing are harmless anyway: a container
 * already gone is skipped. A removal is never forced, so a container started
 * again since the look is left alone (the engine refuses with 409).
 */
@Injectable()
export class ContainerSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ContainerSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(EnginePool) private readonly pool: EnginePool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), sweepIntervalMs(this.config.run.staleAfterSeconds));
    // The sweep is housekeeping: it never keeps the process alive.
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * One sweep of every engine: removes what is older than `staleAfterSeconds`
   * at `now`; answers the ids removed. One engine failing does not spare the
   * others; its failure is thrown once they are swept.
   */
  async sweep(staleAfterSeconds = this.config.run.staleAfterSeconds, now = Date.now()): Promise<string[]> {
    const swept = await Promise.allSettled(this.pool.all.map((member) => this.sweepOne(member, staleAfterSeconds, now)));
    const failed = swept.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return swept.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  }

  private async sweepOne({ engine }: EngineMember, staleAfterSeconds: number, now: number): Promise<string[]> {
    const candidates = await engine.containers.list({
      all: true,
      labelled: true,
      states: STOPPED,
      withLabels: { [RUN_LABELS.deployment]: this.config.keyPrefix },
    });
    const removed: string[] = [];
    for (const candidate of candidates) {
      try {
        const detail = await engine.containers.inspect(candidate.id);
        if (!detail.managed || detail.running || !STOPPED.includes(detail.state as ContainerState)) continue;
        const since = Date.parse(detail.finishedAt ?? detail.created);
        if (now - since < staleAfterSeconds * 1000) continue;
        await engine.containers.remove(detail.id, false);
        removed.push(detail.id);
      } catch (error) {
        // Gone already, or started again: either way not ours to remove now.
        if (error instanceof DrydockError && (error.code === ErrorCode.CONTAINER_NOT_FOUND || error.code === ErrorCode.CONTAINER_RUNNING)) continue;
        throw error;
      }
    }
    return removed;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    const sweep = this.sweep();
    this.running = sweep;
    try {
      const removed = await sweep;
      if (removed.length) this.logger.log({ removed: removed.map((id) => id.slice(0, 12)) }, `removed ${removed.length} stale container(s)`);
    } catch (error) {
      this.logger.warn({ err: error }, `container sweep failed: ${(error as Error).message}`);
    } finally {
      this.running = undefined;
    }
  }
}
