import { Args, Mutation, Resolver } from '@nestjs/graphql';
import type { JobRecord } from '@drydock/jobs';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { JobModel } from '../jobs/job.model';
import { BuildImageInput } from './builds.dto';
import { BuildsService } from './builds.service';

@Resolver()
export class BuildsResolver {
  constructor(private readonly builds: BuildsService) {}

  @Mutation(() => JobModel, { description: 'inline dockerfile + files, or a contextUploadId from POST /v1/builds/contexts' })
  @RequireRole('builder')
  buildImage(@Args('input') input: BuildImageInput, @CurrentPrincipal() principal: Principal): Promise<JobRecord> {
    return this.builds.fromBody(input, principal);
  }
}
