import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { AcceptedJob, IdempotencyKey } from '../jobs/accepted-job';
import { JobModel } from '../jobs/job.model';
import { PullImageInput, PushImageBody } from './transfers.dto';
import { TransfersService } from './transfers.service';

@ApiTags('images')
@Controller('v1/images')
export class TransfersController {
  constructor(private readonly transfers: TransfersService) {}

  @Post('pull')
  @RequireRole('builder')
  @AcceptedJob()
  @ApiOperation({ operationId: 'pullImage' })
  pull(
    @Body() body: PullImageInput,
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: string | undefined,
  ): Promise<JobModel> {
    return this.transfers.pull(body.reference, body.platform, principal, key, body.timeoutSeconds, body.engine);
  }

  @Post(':ref/push')
  @RequireRole('builder')
  @AcceptedJob()
  @ApiOperation({ operationId: 'pushImage' })
  push(
    @Param('ref') ref: string,
    @Body() body: PushImageBody = {},
    @CurrentPrincipal() principal: Principal,
    @IdempotencyKey() key: string | undefined,
  ): Promise<JobModel> {
    return this.transfers.push(ref, body.allTags ?? false, principal, key, body.timeoutSeconds, body.engine);
  }
}
