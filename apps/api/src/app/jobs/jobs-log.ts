import { Logger } from '@nestjs/common';

const logger = new Logger('Jobs');
const lastLogged = new Map<string, number>();
/**
 * BullMQ's and the bus's connections report every failed reconnect while Redis
 * is away; one line per distinct message every 30 s says as much.
 */
export const logJobsError = (error: Error) => {
  const now = Date.now();
  if (now - (lastLogged.get(error.message) ?? 0) < 30_000) return;
  lastLogged.set(error.message, now);
  logger.warn({ err: error }, error.message);
};
