import type { Logger } from '@nestjs/common';

const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Runs `sweep` now and then hourly, logging what it removed; a failed sweep is a
 * warning, never a crash (the next one tries again). Answers the function that stops it.
 */
export function startSweep(what: string, sweep: () => Promise<number>, logger: Logger): () => void {
  const run = () =>
    void sweep()
      .then((removed) => removed && logger.log(`removed ${removed} ${what}`))
      .catch((error: Error) => logger.warn(`sweep of ${what} failed: ${error.message}`));
  run();
  const timer = setInterval(run, SWEEP_EVERY_MS).unref();
  return () => clearInterval(timer);
}
