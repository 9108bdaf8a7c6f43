import { Inject, Injectable } from '@nestjs/common';
import { createWriteStream, promises as fs } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DrydockError, ErrorCode } from '@drydock/core';
import { EnginePool, toDomainError } from '@drydock/docker';
import { JobType, type JobContext, type JobHandler, type JobResultOf } from '@drydock/jobs';
import { JobHandlerProvider } from '../jobs/job-handler.decorator';
import { ArtifactStore } from './artifact-store';

/** A LOG line per this many bytes: a 2 GB image says how far it is without flooding its events. */
const REPORT_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * The EXPORT handler, found by the jobs module: `docker save` streamed to the
 * job's artifact file, with the engine held back when the disk is slower.
 * Cancelling ends the engine's response and removes the part written.
 */
@JobHandlerProvider()
@Injectable()
export class ExportJobHandler implements JobHandler<JobType.EXPORT> {
  readonly type = JobType.EXPORT;

  constructor(
    @Inject(EnginePool) private readonly engines: EnginePool,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
  ) {}

  async handle({ jobId, data, emit, signal, attempt, engine }: JobContext<JobType.EXPORT>): Promise<JobResultOf<JobType.EXPORT>> {
    emit.log(`Saving ${data.references.join(', ')}`);
    const part = await this.artifacts.partPath(jobId, attempt);
    let bytes = 0;
    let reported = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes - reported >= REPORT_EVERY_BYTES) {
          reported = bytes;
          emit.log(`${bytes} bytes written`);
        }
        done(null, chunk);
      },
    });
    try {
      const tar = await this.engines.engine(engine).images.save(data.references);
      // pipeline destroys every stream on error or abort: the engine's response is let go with them.
      await pipeline(tar, count, createWriteStream(part, { flags: 'wx' }), { signal });
      await fs.rename(part, this.artifacts.path(jobId));
    } catch (error) {
      await fs.rm(part, { force: true });
      if (signal.aborted) throw new DrydockError(ErrorCode.CANCELLED, 'export cancelled', { cause: error });
      throw toDomainError(error, 'image');
    }
    emit.log(`Saved ${bytes} bytes`);
    return { tags: data.references, artifactBytes: bytes };
  }
}
