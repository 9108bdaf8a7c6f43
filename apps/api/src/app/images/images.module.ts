import { Module } from '@nestjs/common';
import { RegistriesModule } from '../registries/registries.module';
import { ImagesController } from './images.controller';
import { ImagesResolver } from './images.resolver';
import { ImagesService } from './images.service';
import { TransfersController } from './transfers.controller';
import { TransfersResolver } from './transfers.resolver';
import { TransfersService } from './transfers.service';
import { PullJobHandler, PushJobHandler } from './transfer.jobs';

@Module({
  imports: [RegistriesModule],
  controllers: [TransfersController, ImagesController],
  providers: [ImagesService, ImagesResolver, TransfersService, TransfersResolver, PullJobHandler, PushJobHandler],
  exports: [ImagesService],
})
export class ImagesModule {}
