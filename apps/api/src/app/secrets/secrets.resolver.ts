import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ResealResult } from '../registries/registry.model';
import { BuildSecret } from './build-secret.model';
import { BuildSecrets } from './build-secrets.service';
import { BuildSecretInput } from './secrets.dto';

@Resolver(() => BuildSecret)
@RequireRole('admin')
export class SecretsResolver {
  constructor(private readonly secrets: BuildSecrets) {}

  @Query(() => [BuildSecret], { description: "stored build secrets (every team's, or one team's); never a value; admins only" })
  buildSecrets(@Args('team', { type: () => String, nullable: true }) team?: string): Promise<BuildSecret[]> {
    return this.secrets.list(team ?? undefined);
  }

  @Mutation(() => BuildSecret, { description: 'stores or replaces a build secret, encrypted; admins only' })
  setBuildSecret(
    @Args('input', { type: () => BuildSecretInput }) input: BuildSecretInput,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BuildSecret> {
    return this.secrets.set(principal, input);
  }

  @Mutation(() => Boolean, { description: 'true once removed; SECRET_NOT_FOUND when the team has no such secret; admins only' })
  async removeBuildSecret(
    @Args('id', { type: () => ID }) id: string,
    @CurrentPrincipal() principal: Principal,
    @Args('team', { type: () => String, nullable: true }) team?: string,
  ): Promise<boolean> {
    await this.secrets.remove(principal, id, team);
    return true;
  }

  @Mutation(() => ResealResult, { description: 'seals every build secret under the previous key with the current one; admins only' })
  resealBuildSecrets(): Promise<ResealResult> {
    return this.secrets.reseal();
  }
}
