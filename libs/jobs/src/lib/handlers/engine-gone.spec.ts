import { DrydockError, ErrorCode } from '@drydock/core';
import type { DockerEngine } from '@drydock/docker';
import { classifyFailure } from './engine-gone';

/** An engine whose ping answers `answers` times, then is refused. */
function engineThatAnswers(answers: number): DockerEngine {
  let pings = 0;
  return {
    system: {
      ping: async () => {
        if (pings++ >= answers) throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, 'connect ECONNREFUSED');
      },
    },
  } as unknown as DockerEngine;
}

describe('classifyFailure', () => {
  it('keeps a failure the engine, still answering, reported as its own', async () => {
    const error = new DrydockError(ErrorCode.REGISTRY_ERROR, 'manifest unknown');
    await expect(classifyFailure(engineThatAnswers(100), error)).resolves.toBe(error);
  });

  it('calls a failure ENGINE_UNAVAILABLE when the engine no longer answers', async () => {
    const error = new DrydockError(ErrorCode.BUILD_FAILED, 'the engine finished the build without naming an image');
    await expect(classifyFailure(engineThatAnswers(0), error)).resolves.toMatchObject({ code: ErrorCode.ENGINE_UNAVAILABLE });
  });

  it('calls a failure ENGINE_UNAVAILABLE when the engine says it is shutting down, though its ping still answers', async () => {
    const error = new DrydockError(ErrorCode.REGISTRY_ERROR, 'error creating lease: grpc: the client connection is closing: context canceled');
    await expect(classifyFailure(engineThatAnswers(100), error)).resolves.toMatchObject({ code: ErrorCode.ENGINE_UNAVAILABLE });
  });
});
