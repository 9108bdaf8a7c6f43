import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller';
import { JobsModule } from './jobs.module';
import { JobsResolver } from './jobs.resolver';

/** Jobs over REST, SSE and GraphQL: list, read, follow, cancel. */
@Module({
  imports: [JobsModule],
  controllers: [JobsController],
  providers: [JobsResolver],
})
export class JobsApiModule {}
