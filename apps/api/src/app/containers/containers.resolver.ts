import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { DrydockError, ErrorCode } from '@drydock/core';
import { type Image as ImageShape } from '@drydock/docker';
import type { JobRecord } from '@drydock/jobs';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { Image } from '../images/image.model';
import { JobModel } from '../jobs/job.model';
import { Container, ContainerLogLine } from './container.model';
import { CommitContainerInput, LOG_LINES_MAX, RunContainerInput } from './containers.dto';
import { ContainersService, toContainer } from './containers.service';
import { CUT } from './logs';

const ENGINE_ARG = { type: () => String, nullable: true, description: "the container's engine; absent, whichever engine has it" } as const;

/** A GraphQL argument is not validated by the DTO pipe: bounded here, and an unknown name is UNKNOWN_ENGINE from the pool. */
function engineArg(engine: string | null | undefined): string | undefined {
  if (engine === null || engine === undefined) return undefined;
  if (engine.length === 0 || engine.length > 63) throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'engine must be an engine name');
  return engine;
}

@Resolver(() => Container)
export class ContainersResolver {
  constructor(private readonly service: ContainersService) {}

  @Query(() => [Container], { description: "Drydock's containers the caller may see; running only unless all" })
  @RequireRole('viewer')
  async containers(
    @CurrentPrincipal() principal: Principal,
    @Args('all', { type: () => Boolean, nullable: true }) all?: boolean | null,
    @Args('engine', { ...ENGINE_ARG, description: "only this engine's containers; absent, every engine's" }) engine?: string | null,
  ): Promise<Container[]> {
    return (await this.service.list(all ?? false, principal, engineArg(engine))).map(toContainer);
  }

  @Query(() => Container, { nullable: true })
  @RequireRole('viewer')
  async container(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID }) id: string,
    @Args('engine', ENGINE_ARG) engine?: string | null,
  ): Promise<Container | null> {
    const detail = await this.service.find(id, principal, engineArg(engine));
    return detail ? toContainer(detail) : null;
  }

  @Query(() => [ContainerLogLine], { description: 'the output so far (the last `tail` lines), at most DRYDOCK_CONTAINER_LOGS_MAX_BYTES of it' })
  @RequireRole('viewer')
  async containerLogs(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID }) id: string,
    @Args('tail', { type: () => Int, nullable: true }) tail?: number | null,
    @Args('engine', ENGINE_ARG) engine?: string | null,
  ): Promise<ContainerLogLine[]> {
    if (tail !== null && tail !== undefined && (tail < 1 || tail > LOG_LINES_MAX)) {
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `tail must be from 1 to ${LOG_LINES_MAX}`);
    }
    const lines: ContainerLogLine[] = [];
    for await (const line of await this.service.logs(id, { ...(tail ? { tail } : {}), engine: engineArg(engine) }, principal)) if (line !== CUT) lines.push(line);
    return lines;
  }

  @Mutation(() => JobModel, { description: 'a RUN job; its output lines are LOG events of jobEvents' })
  @RequireRole('builder')
  runContainer(@CurrentPrincipal() principal: Principal, @Args('input') input: RunContainerInput): Promise<JobRecord> {
    return this.service.run(input, principal);
  }

  @Mutation(() => Image)
  @RequireRole('builder')
  commitContainer(@CurrentPrincipal() principal: Principal, @Args('input') input: CommitContainerInput): Promise<ImageShape> {
    const { id, ...body } = input;
    return this.service.commit(id, body, principal);
  }

  @Mutation(() => Boolean)
  @RequireRole('builder')
  async removeContainer(
    @CurrentPrincipal() principal: Principal,
    @Args('id', { type: () => ID }) id: string,
    @Args('force', { type: () => Boolean, nullable: true }) force?: boolean | null,
    @Args('engine', ENGINE_ARG) engine?: string | null,
  ): Promise<boolean> {
    await this.service.remove(id, force ?? false, principal, engineArg(engine));
    return true;
  }
}
