import { Module } from '@nestjs/common';
import { RegistriesController } from './registries.controller';
import { RegistriesResolver } from './registries.resolver';
import { RegistryCredentialsModule } from './registry-credentials.module';

/** Registry credentials over REST and GraphQL (admins manage them; nobody reads a password back). */
@Module({
  imports: [RegistryCredentialsModule],
  controllers: [RegistriesController],
  providers: [RegistriesResolver],
})
export class RegistriesModule {}
