import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { idempotencyKey } from '../common/idempotency';
import { JobModel } from '../jobs/job.model';
import { ExportImagesBody } from './export.dto';
import { ExportService } from './export.service';

@ApiTags('images')
@Controller('v1')
export class ExportController {
  constructor(private readonly exports: ExportService) {}

  @Post('images/:ref/export')
  @RequireRole('builder')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: JobModel, description: 'Location: /v1/jobs/{id}' })
  async export(
    @Param('ref') ref: string,
    @Body() body: ExportImagesBody = {},
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobModel> {
    const job = await this.exports.export([ref, ...(body.references ?? [])], principal, idempotencyKey(key));
    void reply.header('location', `/v1/jobs/${job.id}`);
    return job;
  }

  /** The tar of a SUCCEEDED export, streamed from disk (`docker load -i` takes it). */
  @Get('jobs/:id/artifact')
  @RequireRole('viewer')
  @ApiProduces('application/x-tar')
  @ApiOkResponse({ description: 'the tar `docker save` wrote' })
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
