import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { type DockerEngine, type EnginePool } from '@drydock/docker';
import { JobType, type JobContext, type JobEmit } from '@drydock/jobs';
import { ArtifactStore } from './artifact-store';
import { ExportJobHandler } from './export.job-handler';

const JOB = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const emit: JobEmit = { log: () => undefined, progress: () => undefined, step: () => undefined, drain: async () => undefined, congested: false };

describe('ExportJobHandler', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'drydock-artifacts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (tar: Readable, signal = new AbortController().signal) => {
    const engine = { images: { save: jest.fn(async () => tar) } } as unknown as DockerEngine;
    const handler = new ExportJobHandler({ engine: () => engine } as unknown as EnginePool, new ArtifactStore(dir));
    const ctx: JobContext<JobType.EXPORT> = { jobId: JOB, type: JobType.EXPORT, data: { references: ['team-a/app:1'], team: 'team-a' }, engine: 'default', signal, attempt: 1, emit, stillOwned: async () => true };
    return handler.handle(ctx);
  };

  it('writes the whole tar under the job id and reports its size', async () => {
    const result = await run(Readable.from([Buffer.from('abc'), Buffer.from('de')]));
    expect(result).toEqual({ tags: ['team-a/app:1'], artifactBytes: 5 });
    expect(readdirSync(dir)).toEqual([`${JOB}.tar`]);
    expect(readFileSync(join(dir, `${JOB}.tar`), 'utf8')).toBe('abcde');
  });

  it('leaves no file behind when the engine stream breaks midway', async () => {
    let reads = 0;
    const tar = new Readable({
      read() {
        if (reads++ === 0) this.push('partial');
        else this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    await expect(run(tar)).rejects.toThrow('socket hang up');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('on cancel, lets go of the engine stream and removes the part written', async () => {
    // An engine that sends a first chunk and then nothing more, until let go.
    let sent = false;
    const tar = new Readable({ read() { if (!sent) this.push('partial'); sent = true; } });
    const abort = new AbortController();
    tar.once('data', () => abort.abort());
    const done = run(tar, abort.signal);
    await expect(done).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
    expect(tar.destroyed).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
