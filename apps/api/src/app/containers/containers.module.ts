import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { ContainersController } from './containers.controller';
import { ContainersResolver } from './containers.resolver';
import { ContainersService } from './containers.service';
import { RunJobHandler } from './run.job-handler';
import { ContainerSweeper } from './sweeper';

/** Runs, lists, commits and removes Drydock's containers; sweeps the stale ones. */
@Module({
  imports: [ImagesModule],
  controllers: [ContainersController],
  providers: [ContainersService, ContainersResolver, ContainerSweeper, RunJobHandler],
})
export class ContainersModule {}
