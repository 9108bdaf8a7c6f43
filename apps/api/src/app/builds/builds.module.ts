import { Module } from '@nestjs/common';
import { BuildsController } from './builds.controller';
import { BuildsResolver } from './builds.resolver';
import { BuildsService } from './builds.service';

@Module({ controllers: [BuildsController], providers: [BuildsService, BuildsResolver] })
export class BuildsModule {}
