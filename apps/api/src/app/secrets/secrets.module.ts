import { Module } from '@nestjs/common';
import { BuildSecretsModule } from './build-secrets.module';
import { SecretsController } from './secrets.controller';
import { SecretsResolver } from './secrets.resolver';

/** Build secrets over REST and GraphQL (admins only; nobody reads a value back). */
@Module({
  imports: [BuildSecretsModule],
  controllers: [SecretsController],
  providers: [SecretsResolver],
})
export class SecretsModule {}
