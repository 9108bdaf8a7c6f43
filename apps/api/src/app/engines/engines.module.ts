import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EngineModule } from '../engine/engine.module';
import { JobsModule } from '../jobs/jobs.module';
import { EnginesController } from './engines.controller';
import { EnginesResolver } from './engines.resolver';
import { EnginesService } from './engines.service';

/** The configured engines over REST and GraphQL: what each is, whether it answers, how busy it is. */
@Module({
  imports: [AuthModule, EngineModule, JobsModule],
  controllers: [EnginesController],
  providers: [EnginesService, EnginesResolver],
})
export class EnginesModule {}
