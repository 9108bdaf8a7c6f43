import { Args, Mutation, Resolver } from '@nestjs/graphql';
import type { JobRecord } from '@drydock/jobs';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { JobModel } from '../jobs/job.model';
import { PullImageInput, PushImageInput } from './transfers.dto';
import { TransfersService } from './transfers.service';

@Resolver()
export class TransfersResolver {
  constructor(private readonly transfers: TransfersService) {}

  @Mutation(() => JobModel)
  @RequireRole('builder')
  pullImage(@Args('input') input: PullImageInput, @CurrentPrincipal() principal: Principal): Promise<JobRecord> {
    return this.transfers.pull(input.reference, input.platform, principal, undefined, input.timeoutSeconds, input.engine);
  }

  @Mutation(() => JobModel)
  @RequireRole('builder')
  pushImage(@Args('input') input: PushImageInput, @CurrentPrincipal() principal: Principal): Promise<JobRecord> {
    return this.transfers.push(input.reference, input.allTags ?? false, principal, undefined, input.timeoutSeconds, input.engine);
  }
}
