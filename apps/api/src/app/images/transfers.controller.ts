import { Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { idempotencyKey } from '../common/idempotency';
import { JobModel } from '../jobs/job.model';
import { PullImageBody, PushImageBody } from './transfers.dto';
import { TransfersService } from './transfers.service';

@ApiTags('images')
@Controller('v1/images')
export class TransfersController {
  constructor(private readonly transfers: TransfersService) {}

  @Post('pull')
  @RequireRole('builder')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: JobModel, description: 'Location: /v1/jobs/{id}' })
  async pull(
    @Body() body: PullImageBody,
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobModel> {
    const job = await this.transfers.pull(body.reference, body.platform, principal, idempotencyKey(key));
    void reply.header('location', `/v1/jobs/${job.id}`);
    return job;
  }

  @Post(':ref/push')
  @RequireRole('builder')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: JobModel, description: 'Location: /v1/jobs/{id}' })
  async push(
    @Param('ref') ref: string,
    @Body() body: PushImageBody = {},
    @CurrentPrincipal() principal: Principal,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobModel> {
    const job = await this.transfers.push(ref, body.allTags ?? false, principal, idempotencyKey(key));
    void reply.header('location', `/v1/jobs/${job.id}`);
    return job;
  }
}
