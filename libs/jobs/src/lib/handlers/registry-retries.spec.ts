import { ErrorCode } from '@drydock/core';
import type { EngineMessage } from '@drydock/docker';
import { untilEngineRetries } from './registry-retries';

async function drain(messages: EngineMessage[], giveUp: AbortController): Promise<EngineMessage[]> {
  const seen: EngineMessage[] = [];
  async function* source() {
    yield* messages;
  }
  for await (const message of untilEngineRetries(source(), 'push', giveUp)) seen.push(message);
  return seen;
}

describe('untilEngineRetries', () => {
  it('passes a transfer through untouched while the registry answers', async () => {
    const messages = [{ id: 'a', status: 'Pushing' }, { id: 'a', status: 'Pushed' }, { status: 'latest: digest: sha256:1 size: 2' }];
    const giveUp = new AbortController();
    expect(await drain(messages, giveUp)).toEqual(messages);
    expect(giveUp.signal.aborted).toBe(false);
  });

  it('lets go of the transfer with REGISTRY_UNREACHABLE once the engine starts retrying a layer', async () => {
    const giveUp = new AbortController();
    const failed = drain([{ id: 'a', status: 'Pushing' }, { id: 'a', status: 'Retrying in 5 seconds' }, { id: 'a', status: 'Pushed' }], giveUp);
    await expect(failed).rejects.toMatchObject({ code: ErrorCode.REGISTRY_UNREACHABLE, message: expect.stringContaining('layer a') });
    expect(giveUp.signal.aborted).toBe(true);
  });
});
