import { DrydockError, ErrorCode, isTransient } from '@drydock/core';
import { toDomainError, type ContainerSpec, type DockerEngine, type OutputLine } from '@drydock/docker';
import { keepUp } from '../emitter';
import { JobType, LogStream } from '../model';
import type { JobResultOf } from '../contract';
import { type JobContext, type JobHandler, TIMEOUT_REASON } from '../runner/handler';
import { FailedWithResult } from '../runner/ending';
import type { EngineSource } from './sources';

/** Labels Drydock sets on a RUN job's container besides DRYDOCK_LABEL. */
export const RUN_LABELS = {
  job: 'io.drydock.job',
  team: 'io.drydock.team',
  owner: 'io.drydock.owner',
  /** The Drydock installation (its key prefix): each sweeps its own, when several share an engine. */
  deployment: 'io.drydock.deployment',
  /** The attempt that created the container: a later run of the job finds it by the job label and says whose it was. */
  attempt: 'io.drydock.attempt',
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
export function runContainerSpec(jobId: string, data: RunJobData, attempt = 1): ContainerSpec {
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
      [RUN_LABELS.attempt]: String(attempt),
    },
    memoryBytes: data.memoryBytes,
    nanoCpus: data.nanoCpus,
    ...(data.pidsLimit !== undefined ? { pidsLimit: data.pidsLimit } : {}),
    network: 'none',
  };
}

/** What an earlier run of the job left at the engine: a container whose command started, or none. */
interface Leftover {
  containerId: string;
  attempt: string;
}

/**
 * Runs a command in a new container, as `docker run` without `--rm`: every
 * output line becomes a LOG event (and nothing else does: the container id is
 * in the result and on the container's `io.drydock.job` label), and the
 * container stays for inspection and commit whatever the exit code. A
 * non-zero exit fails the job with that code. Cancelling stops the container.
 *
 * At most one execution: a job run again (a retry, or a restart after its
 * worker died) first looks for the container an earlier run created. One whose
 * command started (running, or already ended) is that command's one
 * execution: it is adopted, followed to its end, and its exit code is the
 * job's outcome. One that never started is removed and replaced.
 */
export class RunJob implements JobHandler<JobType.RUN> {
  readonly type = JobType.RUN;

  constructor(private readonly engines: EngineSource) {}

  async handle({ jobId, data, emit, signal, attempt, resumeAfter, engine: engineName }: JobContext<JobType.RUN>): Promise<JobResultOf<JobType.RUN>> {
    const engine = this.engines.engine(engineName);
    const leftover = await this.leftover(engine, jobId, data);
    const containerId = leftover?.containerId ?? (await engine.containers.create(runContainerSpec(jobId, data, attempt)));
    const shortId = containerId.slice(0, 12);
    // Let go of the output only once the container has stopped, so the output up to the stop is kept;
    // if the stop itself fails, let go anyway rather than hang on a container that may never end.
    const attached = new AbortController();
    const stop = () => {
      // A cancelled command gets a second to exit cleanly; one past its time limit has had its time.
      void engine.containers
        .stop(containerId, signal.reason === TIMEOUT_REASON ? 0 : 1)
        .catch(() => undefined)
        .finally(() => attached.abort());
    };
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    try {
      let output: AsyncIterable<OutputLine>;
      if (leftover) {
        emit.log(`Following container ${shortId}, started by attempt ${leftover.attempt}, instead of running the command again`);
        // Only what the earlier run had not stored yet.
        const since = resumeAfter ? Date.parse(resumeAfter) / 1000 : undefined;
        output = await engine.containers.logs(containerId, { follow: true, signal: attached.signal, ...(since ? { since } : {}) });
      } else {
        // Attach before starting so not a line of output is missed.
        output = await engine.containers.attach(containerId, attached.signal);
        await this.start(engine, containerId);
      }
      // emit.log only queues the write: a container printing faster than Redis stores would queue
      // without bound, so reading stops while the store catches up.
      for await (const { line, stream } of output) {
        emit.log(line, stream === 'stderr' ? LogStream.STDERR : LogStream.STDOUT);
        await keepUp(emit);
      }
      const exitCode = await engine.containers.wait(containerId);
      if (signal.aborted) return { containerId, exitCode };
      if (exitCode !== 0) {
        throw new FailedWithResult(ErrorCode.RUN_FAILED, `container ${shortId} exited with code ${exitCode}`, { containerId, exitCode });
      }
      return { containerId, exitCode };
    } finally {
      signal.removeEventListener('abort', stop);
      attached.abort();
    }
  }

  /** Stops the job's containers that still run: the job has ended, so its command must not go on. */
  async release(jobId: string, data: RunJobData, engineName: string): Promise<void> {
    const engine = this.engines.engine(engineName);
    const running = await engine.containers.list({ all: false, labelled: true, withLabels: this.jobLabels(jobId, data) });
    await Promise.all(running.map((container) => engine.containers.stop(container.id, 1)));
  }

  /**
   * The container an earlier run of this job started, if any; containers it
   * created but never started are removed, so the new one is the only one.
   */
  private async leftover(engine: DockerEngine, jobId: string, data: RunJobData): Promise<Leftover | null> {
    const containers = await engine.containers.list({ all: true, labelled: true, withLabels: this.jobLabels(jobId, data) });
    let found: Leftover | null = null;
    for (const container of containers) {
      if (container.state === 'created') {
        await engine.containers.remove(container.id, true);
      } else if (!found || container.state === 'running') {
        found = { containerId: container.id, attempt: container.labels[RUN_LABELS.attempt] ?? '?' };
      }
    }
    return found;
  }

  private jobLabels(jobId: string, data: RunJobData): Record<string, string> {
    return { [RUN_LABELS.job]: jobId, ...(data.deployment ? { [RUN_LABELS.deployment]: data.deployment } : {}) };
  }

  /** A command the image cannot run (no such executable, bad user) is the run's failure, not bad input to the API. */
  private async start(engine: DockerEngine, containerId: string): Promise<void> {
    try {
      await engine.containers.start(containerId);
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
