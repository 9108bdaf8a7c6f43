import { DrydockError, ErrorCode } from '@drydock/core';
import type { EngineMessage } from '@drydock/docker';

const ENGINE_RETRY = /^Retrying in \d+ seconds?$/;

/**
 * Passes a pull's or push's messages on until the engine says it is retrying
 * a layer because the registry stopped answering; then lets go of the
 * transfer (`giveUp` aborts the engine call) and fails REGISTRY_UNREACHABLE.
 * The engine's own retries wait 5, 10, 15, 20 s per layer; the job's retries
 * (a few attempts with backoff) are the bounded ones, and a transfer resumed
 * by a later attempt only moves the layers the registry does not have yet.
 */
export async function* untilEngineRetries(
  messages: AsyncIterable<EngineMessage>,
  direction: 'pull' | 'push',
  giveUp: AbortController,
): AsyncGenerator<EngineMessage> {
  for await (const message of messages) {
    if (message.status && ENGINE_RETRY.test(message.status)) {
      giveUp.abort();
      throw new DrydockError(
        ErrorCode.REGISTRY_UNREACHABLE,
        `the registry stopped answering during the ${direction}${message.id ? ` (layer ${message.id})` : ''}`,
      );
    }
    yield message;
  }
}
