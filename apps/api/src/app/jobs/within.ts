/** How long the queue, the bus and a draining worker's connections get to close before their sockets are cut. */
export const CLOSE_GRACE_MS = 3_000;

/** Resolves when `work` does or after `ms`, whichever is first: shutdown must not wait on a Redis that is gone. */
export function within(work: Promise<unknown> | undefined, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}
