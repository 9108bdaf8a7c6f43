import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { AcceptedJob, IdempotencyKey } from '../jobs/accepted-job';
import { JobModel } from '../jobs/job.model';
import { ExportImagesBody } from './export.dto';
import { ExportService } from './export.service';

@ApiTags('images')
@Controller('v1')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Post('images/:ref/export')
  @RequireRole('builder')
  @AcceptedJob()
  @ApiOperation({ operationId: 'exportImage' })
  export(
    @Param('ref') ref: string,
    @Body() body: ExportImagesBody = {},
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: string | undefined,
  ): Promise<JobModel> {
    return this.exports.export([ref, ...(body.references ?? [])], principal, key, body.timeoutSeconds, body.engine);
  }

  /** The tar of a SUCCEEDED export, streamed from disk (`docker load -i` takes it). */
  @Get('jobs/:id/artifact')
  @RequireRole('viewer')
  @ApiProduces('application/x-tar')
  @ApiOkResponse({ description: 'the tar `docker save` wrote', schema: { type: 'string', format: 'binary' } })
  @ApiOperation({ operationId: 'getJobArtifact' })
  async artifact(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { stream, size } = await this.exports.artifact(id, principal);
    await reply
      .header('content-type', 'application/x-tar')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="${id}.tar"`)
      .send(stream);
  }
}
