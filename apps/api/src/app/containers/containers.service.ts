import { Inject, Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, isDrydockError, parseReference, parseRepository, validateTag } from '@drydock/core';
import { EnginePool, type ContainerDetail, type EngineMember, type Image, type OutputLine } from '@drydock/docker';
import { JobType, RUN_LABELS, type JobRecord, type RunJobData } from '@drydock/jobs';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { requesterOf } from '../auth/requester';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { engineName } from '../images/image-ref';
import { EngineRouter } from '../engine/engine-router';
import type { HeldImage } from '../engine/merged-catalog';
import { JobsService } from '../jobs/jobs.service';
import type { Container } from './container.model';
import type { CommitContainerBody, ContainerLogsQuery } from './containers.dto';
import { CUT, limitBytes, parseSince } from './logs';
import { checkCommitChanges, checkCommitText, checkContainerId, checkRunRequest, fenceRun, RUN_PIDS_LIMIT } from './fence';

const INSPECT_CONCURRENCY = 8;

/** A container and the engine it is on. */
export type EngineContainer = ContainerDetail & { engine: string };

interface Located {
  member: EngineMember;
  detail: ContainerDetail;
}

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
    @Inject(EnginePool) private readonly pool: EnginePool,
    @Inject(EngineRouter) private readonly router: EngineRouter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly policy: NamespacePolicy,
  ) {}

  /**
   * `docker run` without `-it` or `--rm`, as a RUN job, on the engine named or
   * else the one that has the image; the image must already be there (no implicit pull).
   */
  async run(input: unknown, principal: Principal, idempotencyKey?: string): Promise<JobRecord> {
    // The time limit and the engine are the job's, not the container's: the fence sees only container fields.
    const { timeoutSeconds, engine, ...fields } = (input ?? {}) as { timeoutSeconds?: number; engine?: string };
    const request = checkRunRequest(fields);
    const requester = requesterOf(principal, idempotencyKey);
    const image = engineName(request.image);
    const member = await this.router.forImage(image, engine);
    await member.engine.images.inspect(image);
    const data = fenceRun(
      request,
      image,
      { memoryBytes: this.config.run.memoryBytes, nanoCpus: this.config.run.nanoCpus, pidsLimit: RUN_PIDS_LIMIT },
      { team: requester.team, owner: requester.owner },
      this.config.keyPrefix,
    );
    return this.jobs.accept(JobType.RUN, data, { requester, request: describeRun(data), timeoutSeconds, engine: member.name });
  }

  /** Every engine's containers the caller may see (or the named engine's), newest first; an engine that does not answer is left out. */
  async list(all: boolean, principal: Principal, engine?: string): Promise<EngineContainer[]> {
    const members = engine ? [this.pool.get(engine)] : this.pool.all;
    const perEngine = await Promise.all(
      members.map((member) => this.listOn(member, all, principal).catch((error: unknown) => {
        if (members.length > 1 && isDrydockError(error) && error.code === ErrorCode.ENGINE_UNAVAILABLE) return [];
        throw error;
      })),
    );
    return perEngine.flat().sort((a, b) => b.created.localeCompare(a.created));
  }

  private async listOn(member: EngineMember, all: boolean, principal: Principal): Promise<EngineContainer[]> {
    const rows = await member.engine.containers.list({ all, labelled: true, withLabels: { [RUN_LABELS.deployment]: this.config.keyPrefix } });
    const visible = rows.filter((row) => this.mayView(row.labels, principal));
    const details: EngineContainer[] = [];
    for (let i = 0; i < visible.length; i += INSPECT_CONCURRENCY) {
      const batch = await Promise.all(visible.slice(i, i + INSPECT_CONCURRENCY).map((row) => this.visibleOn(member, row.id, principal)));
      for (const detail of batch) if (detail) details.push({ ...detail, engine: member.name });
    }
    return details;
  }

  /** The container, if the caller may see it, with its engine. */
  async get(id: string, principal: Principal, engine?: string): Promise<EngineContainer> {
    const { member, detail } = await this.locate(id, principal, engine);
    return { ...detail, engine: member.name };
  }

  async find(id: string, principal: Principal, engine?: string): Promise<EngineContainer | null> {
    try {
      return await this.get(id, principal, engine);
    } catch (error) {
      if (error instanceof DrydockError && error.code === ErrorCode.CONTAINER_NOT_FOUND) return null;
      throw error;
    }
  }

  /**
   * The engine holding the container (the one named, else whichever has it)
   * and the container there. An id prefix or name that matches a visible
   * container on several engines is AMBIGUOUS_ENGINE: the caller names one.
   */
  private async locate(id: string, principal: Principal, engine?: string): Promise<Located> {
    checkContainerId(id);
    const members = engine ? [this.pool.get(engine)] : this.pool.all;
    if (members.length === 1) {
      const member = members[0] as EngineMember;
      // An absent container is already CONTAINER_NOT_FOUND from the engine adapter.
      const detail = await member.engine.containers.inspect(id);
      if (!detail.managed || !this.mayView(detail.labels, principal)) throw notFound(id);
      return { member, detail };
    }
    const away: string[] = [];
    const found = await Promise.all(
      members.map((member) =>
        this.visibleOn(member, id, principal).catch((error: unknown) => {
          if (!isDrydockError(error) || error.code !== ErrorCode.ENGINE_UNAVAILABLE) throw error;
          away.push(member.name);
          return null;
        }),
      ),
    );
    const located = members.flatMap((member, i) => (found[i] ? [{ member, detail: found[i] as ContainerDetail }] : []));
    if (located.length === 1) return located[0] as Located;
    if (located.length > 1) {
      const names = located.map((entry) => entry.member.name);
      throw new DrydockError(ErrorCode.AMBIGUOUS_ENGINE, `container ${id} names a container on engines ${names.join(', ')}: name one with engine`, {
        details: { engines: names },
      });
    }
    if (away.length) throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, `no engine that answers has container ${id}; ${away.join(', ')} did not answer`);
    throw notFound(id);
  }

  /** The container on one engine if it is there and the caller may see it; null otherwise. */
  private async visibleOn(member: EngineMember, id: string, principal: Principal): Promise<ContainerDetail | null> {
    try {
      const detail = await member.engine.containers.inspect(id);
      return detail.managed && this.mayView(detail.labels, principal) ? detail : null;
    } catch (error) {
      if (isDrydockError(error) && error.code === ErrorCode.CONTAINER_NOT_FOUND) return null;
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
    const { member, detail: container } = await this.locate(id, principal, query.engine);
    const lines = await member.engine.containers.logs(container.id, {
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      ...(since !== undefined ? { since } : {}),
    });
    const cap = this.config.containerLogsMaxBytes;
    return limitBytes(lines, Math.min(query.limit ?? cap, cap));
  }

  /** `docker commit -m -a -c CONTAINER REPOSITORY[:TAG]`, paused while it runs, on the container's engine; answers the new image. */
  async commit(id: string, body: CommitContainerBody, principal: Principal): Promise<HeldImage> {
    checkContainerId(id);
    const target = body.tag === undefined || body.tag === null ? parseReference(body.repository) : parseRepository(body.repository);
    if (target.digest) {
      throw new DrydockError(ErrorCode.INVALID_REFERENCE, `cannot commit into a digest reference "${body.repository}"`);
    }
    const tag = validateTag(body.tag ?? target.effectiveTag ?? 'latest');
    const { message, author } = checkCommitText(body.message, body.author);
    const changes = checkCommitChanges(body.changes);
    this.policy.assertWrite(principal, target);
    const { member, detail: container } = await this.locate(id, principal, body.engine);
    let image: Image;
    try {
      image = await member.engine.containers.commit(container.id, {
        repository: target.repository,
        tag,
        message,
        author,
        changes,
        pause: true,
      });
    } finally {
      member.catalog.invalidate();
    }
    const committed = await member.engine.images.inspect(image.id);
    const listed = (await member.catalog.all()).find((candidate) => candidate.id === committed.id);
    // Made here, so held here; another engine with the very same id is too rare to ask every engine for.
    return { ...committed, containers: listed?.containers ?? 0, engines: [member.name] };
  }

  /** `docker rm [-f]`: a running container is CONTAINER_RUNNING (409) unless forced. */
  async remove(id: string, force: boolean, principal: Principal, engine?: string): Promise<void> {
    const { member, detail: container } = await this.locate(id, principal, engine);
    if (container.running && !force) {
      throw new DrydockError(ErrorCode.CONTAINER_RUNNING, `container ${container.shortId} is ${container.state}; stop it first or pass force`);
    }
    try {
      await member.engine.containers.remove(container.id, force);
    } finally {
      member.catalog.invalidate();
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
export function toContainer(detail: EngineContainer): Container {
  const label = (key: string) => detail.labels[key] || null;
  return {
    id: detail.id,
    engine: detail.engine,
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
