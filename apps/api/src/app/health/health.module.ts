import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { RegistryCredentialsModule } from '../registries/registry-credentials.module';
import { HealthController } from './health.controller';

/** Liveness and readiness, served by every role. */
@Module({ imports: [EngineModule, RegistryCredentialsModule], controllers: [HealthController] })
export class HealthModule {}
