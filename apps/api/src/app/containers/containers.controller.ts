import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { AcceptedJob, IdempotencyKey } from '../jobs/accepted-job';
import { Image } from '../images/image.model';
import { JobModel } from '../jobs/job.model';
import { Container, ContainerLogs } from './container.model';
import { CommitContainerBody, ContainerLogsQuery, ContainerQuery, ListContainersQuery, RemoveContainerQuery, RunContainerInput } from './containers.dto';
import { ContainersService, toContainer } from './containers.service';
import { logsJson } from './logs';

@ApiTags('containers')
@Controller('v1/containers')
export class ContainersController {
  constructor(private readonly containers: ContainersService) {}

  /** Runs a command in a new container as a RUN job: its output lines become the job's LOG events. */
  @Post()
  @RequireRole('builder')
  @AcceptedJob()
  @ApiOperation({ operationId: 'runContainer' })
  run(
    @Body() body: RunContainerInput,
    @IdempotencyKey() key: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<JobModel> {
    return this.containers.run(body, principal, key);
  }

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [Container], description: "Drydock's containers the caller may see; running only unless all=true" })
  @ApiOperation({ operationId: 'listContainers' })
  async list(@Query() query: ListContainersQuery, @CurrentPrincipal() principal: Principal): Promise<Container[]> {
    return (await this.containers.list(query.all ?? false, principal, query.engine)).map(toContainer);
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOkResponse({ type: Container })
  @ApiOperation({ operationId: 'inspectContainer' })
  async inspect(@Param('id') id: string, @Query() query: ContainerQuery, @CurrentPrincipal() principal: Principal): Promise<Container> {
    return toContainer(await this.containers.get(id, principal, query.engine));
  }

  /**
   * The output so far (not a follow: a running job's live output is its event
   * stream), streamed as it is read from the engine, cut at a byte limit.
   */
  @Get(':id/logs')
  @RequireRole('viewer')
  @ApiOkResponse({ type: ContainerLogs, description: 'streamed; `truncated` says whether the byte limit cut it' })
  @ApiOperation({ operationId: 'containerLogs' })
  async logs(
    @Param('id') id: string,
    @Query() query: ContainerLogsQuery,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const lines = await this.containers.logs(id, query, principal);
    // Readable.from pulls the next chunk only when the socket takes it; a client gone destroys it and the engine's answer with it.
    await reply.type('application/json; charset=utf-8').send(Readable.from(logsJson(lines)));
  }

  @Post(':id/commit')
  @RequireRole('builder')
  @ApiCreatedResponse({ type: Image })
  @ApiOperation({ operationId: 'commitContainer' })
  commit(@Param('id') id: string, @Body() body: CommitContainerBody, @CurrentPrincipal() principal: Principal): Promise<Image> {
    return this.containers.commit(id, body, principal);
  }

  @Delete(':id')
  @RequireRole('builder')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'removed; 409 CONTAINER_RUNNING while it runs unless force=true' })
  @ApiOperation({ operationId: 'removeContainer' })
  async remove(@Param('id') id: string, @Query() query: RemoveContainerQuery, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.containers.remove(id, query.force ?? false, principal, query.engine);
  }
}
