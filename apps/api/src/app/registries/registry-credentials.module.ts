import { Module } from '@nestjs/common';
import { EngineModule } from '../engine/engine.module';
import { RegistryCredentials } from './registry-credentials.service';

/** The registry credential vault: the API stores and checks logins, the workers read them just before an engine call. */
@Module({
  imports: [EngineModule],
  providers: [RegistryCredentials],
  exports: [RegistryCredentials],
})
export class RegistryCredentialsModule {}
