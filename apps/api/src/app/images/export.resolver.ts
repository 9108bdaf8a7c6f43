import { Args, Mutation, Resolver } from '@nestjs/graphql';
import type { JobRecord } from '@drydock/jobs';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { JobModel } from '../jobs/job.model';
import { ExportImagesInput } from './export.dto';
import { ExportService } from './export.service';

@Resolver()
export class ExportResolver {
  constructor(private readonly exports: ExportService) {}

  @Mutation(() => JobModel, { description: '`docker save` as an EXPORT job; the tar at GET /v1/jobs/{id}/artifact' })
  @RequireRole('builder')
  exportImages(@Args('input') input: ExportImagesInput, @CurrentPrincipal() principal: Principal): Promise<JobRecord> {
    return this.exports.export(input.references, principal, undefined, input.timeoutSeconds, input.engine);
  }
}
