import { Module } from '@nestjs/common';
import type { BuildSecretSource } from '@drydock/jobs';
import { BUILD_SECRET_SOURCE } from '../jobs/jobs.tokens';
import { BuildSecrets } from './build-secrets.service';

/**
 * The build secret store, for every role: the API stores secrets and checks a
 * build's ids at submit time (BuildSecrets.exists); the BUILD handler reads
 * values through BUILD_SECRET_SOURCE when BuildKit asks for them.
 */
@Module({
  providers: [
    BuildSecrets,
    {
      provide: BUILD_SECRET_SOURCE,
      inject: [BuildSecrets],
      useFactory: (secrets: BuildSecrets): BuildSecretSource => ({
        secretFor: (team, id) => (team ? secrets.secretFor(team, id) : Promise.resolve(null)),
      }),
    },
  ],
  exports: [BuildSecrets, BUILD_SECRET_SOURCE],
})
export class BuildSecretsModule {}
