import { Inject, Injectable } from '@nestjs/common';
import { EnginePool, type EngineMember } from '@drydock/docker';
import { JobQueue } from '@drydock/jobs';
import type { Principal } from '../auth/principal';
import { bounded } from '../engine/bounded';
import type { EngineInfo } from '../images/image.model';
import type { EngineModel } from './engine.model';

/**
 * What each configured engine is and how busy it is. Every probe is bounded
 * and asked of all engines at once: one engine down is reported unhealthy
 * with nulls, never a slow or failed answer about the others.
 */
@Injectable()
export class EnginesService {
  constructor(
    @Inject(EnginePool) private readonly pool: EnginePool,
    @Inject(JobQueue) private readonly queue: JobQueue,
  ) {}

  list(principal: Principal): Promise<EngineModel[]> {
    return Promise.all(this.pool.all.map((member) => this.describe(member, principal.role === 'admin')));
  }

  /** The engine's own account of itself (GraphQL `engine`): the one named, else the first. */
  info(name?: string | null): Promise<EngineInfo> {
    return (name ? this.pool.get(name) : this.pool.first).engine.system.info();
  }

  private async describe(member: EngineMember, admin: boolean): Promise<EngineModel> {
    const [info, images, load] = await Promise.all([
      bounded(member.engine.system.info()).catch(() => null),
      bounded(member.catalog.all()).then((all) => all.length, () => null),
      bounded(this.queue.load(member.name)).catch(() => null),
    ]);
    return {
      name: member.name,
      ...(admin ? { host: member.spec.host } : {}),
      version: info?.version ?? null,
      apiVersion: info?.apiVersion ?? null,
      builders: info?.builders ?? null,
      healthy: member.catalog.isLive && info !== null,
      images,
      runningJobs: load?.running ?? null,
      waitingJobs: load?.waiting ?? null,
      labels: Object.entries(member.spec.labels).map(([key, value]) => ({ key, value })),
    };
  }
}
