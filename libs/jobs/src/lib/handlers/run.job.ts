import { DrydockError, ErrorCode, isTransient } from '@drydock/core';
import { toDomainError, type ContainerSpec, type DockerEngine } from '@drydock/docker';
import { keepUp } from '../emitter';
import { JobType } from '../model';
import type { JobResultOf } from '../contract';
import { type JobContext, type JobHandler, TIMEOUT_REASON } from '../runner/handler';

/** Labels Drydock sets on a RUN job's container besides DRYDOCK_LABEL. */
export const RUN_LABELS = {
  job: 'io.drydock.job',
  team: 'io.drydock.team',
  owner: 'io.drydock.owner',
  /** The Drydock installation (its key prefix): each sweeps its own, when several share an engine. */
  deployment: 'io.drydock.deployment',
} as const;

/** What the API's fence (apps/api containers/fence.ts) lets through; nothing else reaches the engine. */
export interface RunJobData {
  /** The image as the engine should resolve it (reference, id or digest); checked to exist when queued. */
  image: string;
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  team: string | null;
  owner: string | null;
  memoryBytes: number;
  nanoCpus: number;
  /** Absent in jobs queued before it existed: the engine adapter's default then. */
  pidsLimit?: number;
  /** The installation that queued the job (its key prefix). */
  deployment?: string;
}

/** The container a RUN job creates. */
export function runContainerSpec(jobId: string, data: RunJobData): ContainerSpec {
  return {
    image: data.image,
    ...(data.cmd ? { cmd: data.cmd } : {}),
    ...(data.env ? { env: data.env } : {}),
    ...(data.workingDir ? { workingDir: data.workingDir } : {}),
    ...(data.user ? { user: data.user } : {}),
    // Always all of them, even empty: an image committed from a Drydock container carries
    // these labels, and a value inherited from it must never pass for this run's.
    labels: {
      [RUN_LABELS.job]: jobId,
      [RUN_LABELS.team]: data.team ?? '',
      [RUN_LABELS.owner]: data.owner ?? '',
      [RUN_LABELS.deployment]: data.deployment ?? '',
    },
    memoryBytes: data.memoryBytes,
    nanoCpus: data.nanoCpus,
    ...(data.pidsLimit !== undefined ? { pidsLimit: data.pidsLimit } : {}),
    network: 'none',
  };
}

/**
 * Runs a command in a new container, as `docker run` without `--rm`: every
 * output line becomes a LOG event (and nothing else does: the container id is
 * in the result and on the container's `io.drydock.job` label), and the
 * container stays for inspection and commit whatever the exit code. A
 * non-zero exit fails the job with that code. Cancelling stops the container.
 */
export class RunJob implements JobHandler<JobType.RUN> {
  readonly type = JobType.RUN;

  constructor(private readonly engine: DockerEngine) {}

  async handle({ jobId, data, emit, signal }: JobContext<JobType.RUN>): Promise<JobResultOf<JobType.RUN>> {
    const containerId = await this.engine.containers.create(runContainerSpec(jobId, data));
    const shortId = containerId.slice(0, 12);
    // Let go of the attach only once the container has stopped, so the output up to the stop is kept;
    // if the stop itself fails, let go anyway rather than hang on a container that may never end.
    const attached = new AbortController();
    const stop = () => {
      // A cancelled command gets a second to exit cleanly; one past its time limit has had its time.
      void this.engine.containers
        .stop(containerId, signal.reason === TIMEOUT_REASON ? 0 : 1)
        .catch(() => undefined)
        .finally(() => attached.abort());
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    try {
      // Attach before starting so not a line of output is missed.
      const output = await this.engine.containers.attach(containerId, attached.signal);
      await this.start(containerId);
      // emit.log only queues the write: a container printing faster than Redis stores would queue
      // without bound, so reading stops while the store catches up.
      for await (const { line } of output) {
        emit.log(line);
        await keepUp(emit);
      }
      const exitCode = await this.engine.containers.wait(containerId);
      if (signal.aborted) return { containerId, exitCode };
      if (exitCode !== 0) {
        throw new DrydockError(ErrorCode.RUN_FAILED, `container ${shortId} exited with code ${exitCode}`);
      }
      return { containerId, exitCode };
    } finally {
      signal.removeEventListener('abort', stop);
      attached.abort();
    }
  }

  /** A command the image cannot run (no such executable, bad user) is the run's failure, not bad input to the API. */
  private async start(containerId: string): Promise<void> {
    try {
      await this.engine.containers.start(containerId);
    } catch (error) {
      const mapped = toDomainError(error, 'container');
      if (isTransient(mapped.code) || mapped.code === ErrorCode.CANCELLED) throw mapped;
      throw new DrydockError(
        ErrorCode.RUN_FAILED,
        `container ${containerId.slice(0, 12)} could not start: ${mapped.message}`,
        { cause: error },
      );
    }
  }
}
