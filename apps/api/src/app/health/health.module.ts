import { Module } from '@nestjs/common';
import { RegistriesModule } from '../registries/registries.module';
import { HealthController } from './health.controller';

@Module({ imports: [RegistriesModule], controllers: [HealthController] })
export class HealthModule {}
