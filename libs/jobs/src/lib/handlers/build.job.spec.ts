import { ErrorCode } from '@drydock/core';
import type { DockerEngine, EngineMessage } from '@drydock/docker';
import { Readable } from 'node:stream';
import type { JobEmit } from '../emitter';
import { JobType } from '../model';
import { BuildJob, type BuildJobData } from './build.job';

const IMAGE_ID = `sha256:${'9c'.repeat(32)}`;

/** The engine's side of a one-step build: it records what it was asked to build and to tag. */
function fakeEngine() {
  const calls = { buildTags: [] as string[][], tagged: [] as string[] };
  const engine = {
    images: {
      async *build(_context: Readable, options: { tags: string[] }): AsyncGenerator<EngineMessage> {
        calls.buildTags.push(options.tags);
        yield { stream: 'Step 1/1 : FROM localhost:5001/drydock-fixture/busybox:1\n' };
        yield { aux: { ID: IMAGE_ID } };
        yield { stream: 'Successfully built 9c9c9c9c9c9c\n' };
      },
      tag: async (source: string, repository: string, tag: string) => void calls.tagged.push(`${source} ${repository}:${tag}`),
      inspect: async () => ({}),
    },
  } as unknown as DockerEngine;
  return { engine, calls };
}

function emitter(lines: string[]): JobEmit {
  return { log: (m) => void lines.push(m), progress: () => undefined, step: (_s, m) => void lines.push(m), drain: async () => undefined, congested: false };
}

const data: BuildJobData = { contextId: 'ctx', dockerfile: 'Dockerfile', tags: ['localhost:5001/team-a/app:1', 'localhost:5001/team-a/app:latest'], baseRegistries: [], team: 'team-a' };

function handle(stillOwned: () => Promise<boolean>) {
  const { engine, calls } = fakeEngine();
  const removed: string[] = [];
  const contexts = { open: async () => Readable.from([]), remove: async (id: string) => void removed.push(id) };
  const job = new BuildJob(engine, { credentialFor: async () => null }, contexts, { limits: {} as never });
  const lines: string[] = [];
  const done = job.handle({ jobId: 'j', type: JobType.BUILD, data, signal: new AbortController().signal, attempt: 1, emit: emitter(lines), stillOwned });
  return { done, calls, lines, removed };
}

describe('BuildJob', () => {
  it('builds untagged, then tags every tag once the attempt still holds the job, as docker build -t prints it', async () => {
    const { done, calls, lines } = handle(async () => true);
    await expect(done).resolves.toEqual({ imageId: IMAGE_ID, tags: data.tags });
    expect(calls.buildTags).toEqual([[]]);
    expect(calls.tagged).toEqual([`${IMAGE_ID} localhost:5001/team-a/app:1`, `${IMAGE_ID} localhost:5001/team-a/app:latest`]);
    expect(lines.slice(-2)).toEqual(['Successfully tagged localhost:5001/team-a/app:1', 'Successfully tagged localhost:5001/team-a/app:latest']);
  });

  it('moves no tag when the attempt lost the job while it built (its worker taken for dead, the job ended)', async () => {
    const { done, calls, removed } = handle(async () => false);
    await expect(done).rejects.toMatchObject({ code: ErrorCode.WORKER_LOST });
    expect(calls.tagged).toEqual([]);
    expect(removed).toEqual(['ctx']);
  });
});
