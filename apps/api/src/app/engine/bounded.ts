import { DrydockError, ErrorCode } from '@drydock/core';

/** How long one engine (or Redis) gets to answer a probe: one engine away must not hold up an answer about the others. */
export const PROBE_MS = 2_000;

/** `work`, or ENGINE_UNAVAILABLE once `ms` have passed without an answer (a tcp:// engine that is gone may never refuse). */
export function bounded<T>(work: Promise<T>, ms = PROBE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `no answer in ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
