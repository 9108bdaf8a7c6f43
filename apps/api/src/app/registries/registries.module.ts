import { Module } from '@nestjs/common';
import { RegistriesController } from './registries.controller';
import { RegistriesResolver } from './registries.resolver';
import { RegistryCredentials } from './registry-credentials.service';

/** The registry credential vault. Import this module to inject RegistryCredentials (job processors call credentialFor). */
@Module({
  controllers: [RegistriesController],
  providers: [RegistryCredentials, RegistriesResolver],
  exports: [RegistryCredentials],
})
export class RegistriesModule {}
