import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, parseReference, parseRepository, validateTag } from '@drydock/core';
import { DockerEngine, ImageCatalog, type ContainerDetail, type Image, type OutputLine } from '@drydock/docker';
import { JobType, RUN_LABELS, type JobRecord, type RunJobData } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf } from '../auth/requester';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { engineName } from '../images/image-ref';
import { ImagesService } from '../images/images.service';
import { JobsService } from '../jobs/jobs.service';
import type { Container } from './container.model';
import type { CommitContainerBody, ContainerLogsQuery } from './containers.dto';
import { CUT, limitBytes, parseSince } from './logs';
import { checkCommitChanges, checkCommitText, checkContainerId, checkRunRequest, fenceRun, RUN_PIDS_LIMIT } from './fence';

const INSPECT_CONCURRENCY = 8;

/**
 * Containers Drydock runs: a RUN job creates one, and only Drydock's own
 * (ContainerDetail.managed) are listed, inspected, committed or removed. A
 * non-admin sees only its team's, and nobody another installation's (the
 * deployment label, the key prefix); anything else is CONTAINER_NOT_FOUND,
 * the same answer as for a container that does not exist.
 */
@Injectable()
export class ContainersService {
  constructor(
    @Inject(DockerEngine) private readonly engine: DockerEngine,
    @Inject(ImageCatalog) private readonly catalog: ImageCatalog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly images: ImagesService,
    private readonly policy: NamespacePolicy,
  ) {}

  /** `docker run` without `-it` or `--rm`, as a RUN job; the image must already be here (no implicit pull). */
  async run(input: unknown, principal: Principal, idempotencyKey?: string): Promise<JobRecord> {
    // The time limit is the job's, not the container's: the fence sees only container fields.
    const { timeoutSeconds, ...fields } = (input ?? {}) as { timeoutSeconds?: number };
    const request = checkRunRequest(fields);
    const requester = requesterOf(principal, idempotencyKey);
    const image = engineName(request.image);
    await this.engine.images.inspect(image);
    const data = fenceRun(
      request,
      image,
      { memoryBytes: this.config.run.memoryBytes, nanoCpus: this.config.run.nanoCpus, pidsLimit: RUN_PIDS_LIMIT },
      { team: requester.team, owner: requester.owner },
      this.config.keyPrefix,
    );
    return this.jobs.accept(JobType.RUN, data, { requester, request: describeRun(data), timeoutSeconds });
  }

  async list(all: boolean, principal: Principal): Promise<ContainerDetail[]> {
    const rows = await this.engine.containers.list({ all, labelled: true, withLabels: { [RUN_LABELS.deployment]: this.config.keyPrefix } });
    const visible = rows.filter((row) => this.mayView(row.labels, principal));
    const details: ContainerDetail[] = [];
    for (let i = 0; i < visible.length; i += INSPECT_CONCURRENCY) {
      const batch = await Promise.all(visible.slice(i, i + INSPECT_CONCURRENCY).map((row) => this.find(row.id, principal)));
      for (const detail of batch) if (detail) details.push(detail);
    }
    return details.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** The container, if the caller may see it. */
  async get(id: string, principal: Principal): Promise<ContainerDetail> {
    checkContainerId(id);
    // An absent container is already CONTAINER_NOT_FOUND from the engine adapter.
    const detail = await this.engine.containers.inspect(id);
    if (!detail.managed || !this.mayView(detail.labels, principal)) throw notFound(id);
    return detail;
  }

  async find(id: string, principal: Principal): Promise<ContainerDetail | null> {
    try {
      return await this.get(id, principal);
    } catch (error) {
      if (error instanceof DrydockError && error.code === ErrorCode.CONTAINER_NOT_FOUND) return null;
      throw error;
    }
  }

  /**
   * The output so far, streamed from the engine: the last `tail` lines, since
   * `since`, at most `limit` bytes (and never more than the configured cap).
   * Resolves once the engine answers, so a bad id is still a 404 problem.
   */
  async logs(id: string, query: ContainerLogsQuery, principal: Principal): Promise<AsyncGenerator<OutputLine | typeof CUT>> {
    const since = query.since !== undefined ? parseSince(query.since) : undefined;
    const container = await this.get(id, principal);
    const lines = await this.engine.containers.logs(container.id, {
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      ...(since !== undefined ? { since } : {}),
    });
    const cap = this.config.containerLogsMaxBytes;
    return limitBytes(lines, Math.min(query.limit ?? cap, cap));
  }

  /** `docker commit -m -a -c CONTAINER REPOSITORY[:TAG]`, paused while it runs; answers the new image. */
  async commit(id: string, body: CommitContainerBody, principal: Principal): Promise<Image> {
    checkContainerId(id);
    const target = body.tag === undefined || body.tag === null ? parseReference(body.repository) : parseRepository(body.repository);
    if (target.digest) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot commit into a digest reference "${body.repository}"`);
    }
    const tag = validateTag(body.tag ?? target.effectiveTag ?? 'latest');
    const { message, author } = checkCommitText(body.message, body.author);
    const changes = checkCommitChanges(body.changes);
    this.policy.assertWrite(principal, target);
    const container = await this.get(id, principal);
    let image: Image;
    try {
      image = await this.engine.containers.commit(container.id, {
        repository: target.repository,
        tag,
        message,
        author,
        changes,
        pause: true,
      });
    } finally {
      this.catalog.invalidate();
    }
    return this.images.inspect(image.id);
  }

  /** `docker rm [-f]`: a running container is CONTAINER_RUNNING (409) unless forced. */
  async remove(id: string, force: boolean, principal: Principal): Promise<void> {
    const container = await this.get(id, principal);
    if (container.running && !force) {
      throw new DrydockError(ErrorCode.CONTAINER_RUNNING, `container ${container.shortId} is ${container.state}; stop it first or pass force`);
    }
    try {
      await this.engine.containers.remove(container.id, force);
    } finally {
      this.catalog.invalidate();
    }
  }

  /**
   * Another installation's container (another key prefix on the same engine) is not this one's
   * to show, not even to an admin: its teams and tokens are different people.
   */
  private mayView(labels: Record<string, string>, principal: Principal): boolean {
    if (labels[RUN_LABELS.deployment] !== this.config.keyPrefix) return false;
    return principal.role === 'admin' || labels[RUN_LABELS.team] === principal.team;
  }
}

function notFound(id: string): DrydockError {
  return new DrydockError(ErrorCode.CONTAINER_NOT_FOUND, `no container ${id}`);
}

/** The job's `request` as clients see it: env values can be secrets, so only their names. */
function describeRun(data: RunJobData): Record<string, unknown> {
  return {
    image: data.image,
    ...(data.cmd ? { cmd: data.cmd } : {}),
    ...(data.env ? { env: data.env.map((entry) => entry.slice(0, entry.indexOf('='))) } : {}),
    ...(data.workingDir ? { workingDir: data.workingDir } : {}),
    ...(data.user ? { user: data.user } : {}),
  };
}

/** A ContainerDetail as REST and GraphQL answer it. */
export function toContainer(detail: ContainerDetail): Container {
  const label = (key: string) => detail.labels[key] || null;
  return {
    id: detail.id,
    shortId: detail.shortId,
    name: detail.name,
    image: detail.image,
    imageId: detail.imageId,
    command: detail.command,
    created: detail.created,
    state: detail.state,
    running: detail.running,
    exitCode: detail.exitCode,
    startedAt: detail.startedAt,
    finishedAt: detail.finishedAt,
    jobId: label(RUN_LABELS.job),
    team: label(RUN_LABELS.team),
    owner: label(RUN_LABELS.owner),
    labels: Object.entries(detail.labels)
      .map(([key, value]) => ({ key, value }))
      .sort((a, b) => a.key.localeCompare(b.key)),
    config: { cmd: detail.cmd, env: detail.env, workingDir: detail.workingDir, user: detail.user },
  };
}
