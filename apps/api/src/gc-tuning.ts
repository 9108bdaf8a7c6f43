import { setFlagsFromString } from 'node:v8';

/**
 * Every socket read of an upload and every message of a build's file sync is
 * a fresh 64-256 KiB ArrayBuffer outside V8's heap. By default V8 runs a full
 * mark-compact of the whole heap each time such external memory grows by
 * about 64 MiB: several per 100 MiB of build context, which bench/build
 * measured as half of Drydock's CPU for a 100 MiB build (1.75 s, 0.8 s with
 * this flag). Counted in the heap's own limit, external memory is collected
 * along with the objects that held it.
 */
export const GC_FLAGS = ['--external-memory-accounted-in-global-limit'];

/** Set before the application loads; a GC limit flag takes effect at the next limit V8 computes. */
export function tuneGarbageCollection(): void {
  for (const flag of GC_FLAGS) setFlagsFromString(flag);
}
