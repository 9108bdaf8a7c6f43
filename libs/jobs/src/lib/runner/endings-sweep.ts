import { isRedisUnreachable } from '@drydock/core';
import { isTerminal } from '../model';
import { type JobStores, seeEndingThrough } from './ending';

export interface EndingsSweepOptions {
  /** How often to look for stranded endings. */
  everyMs: number;
  /** An ending begun this long ago and not seen through is taken to be stranded: far longer than one takes. */
  strandedAfterMs: number;
  onError: (error: Error) => void;
}

/** Endings one sweep sees through at most; the rest wait for the next. */
const SWEEP_BATCH = 20;

/**
 * Sees through the endings a process began and did not finish (it died between the record's end
 * and its closing events or onJobEnded: the job's webhooks and audit entry). Every worker process
 * sweeps; a claim keeps two from taking the same ending at once. Returns the stop function.
 */
export function sweepStrandedEndings(stores: JobStores, options: EndingsSweepOptions): () => void {
  let running = false;
  const sweep = async (): Promise<void> => {
    for (const id of await stores.records.claimStrandedEndings(options.strandedAfterMs, SWEEP_BATCH)) {
      const record = await stores.records.get(id);
      // Expired, or never ended (a record written back by hand): nothing left to see through.
      if (!record || !isTerminal(record.state)) await stores.records.endingSeen(id);
      else await seeEndingThrough(stores, record, null);
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      // Redis away: the next sweep after it is back finds the same endings.
      .catch((error: unknown) => isRedisUnreachable(error) || options.onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => (running = false));
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
