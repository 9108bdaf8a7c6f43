import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { RegistryCredentialInput } from './registries.dto';
import { Registry, ResealResult } from './registry.model';
import { RegistryCredentials } from './registry-credentials.service';

@Resolver(() => Registry)
export class RegistriesResolver {
  constructor(private readonly vault: RegistryCredentials) {}

  @Query(() => [Registry], { description: "registry logins of the caller's team (every team's for an admin); never a password" })
  @RequireRole('viewer')
  registries(@CurrentPrincipal() principal: Principal): Promise<Registry[]> {
    return this.vault.list(principal);
  }

  @Mutation(() => Registry, { description: 'checked against the registry, then stored encrypted; admins only' })
  @RequireRole('admin')
  setRegistryCredential(
    @Args('input', { type: () => RegistryCredentialInput }) input: RegistryCredentialInput,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Registry> {
    return this.vault.set(principal, input);
  }

  @Mutation(() => Boolean, { description: 'true when a login was removed; admins only' })
  @RequireRole('admin')
  removeRegistryCredential(
    @Args('registry') registry: string,
    @CurrentPrincipal() principal: Principal,
    @Args('team', { type: () => String, nullable: true }) team?: string,
  ): Promise<boolean> {
    return this.vault.remove(principal, registry, team ?? undefined);
  }

  @Mutation(() => ResealResult, { description: 'seals every credential under the previous key with the current one; admins only' })
  @RequireRole('admin')
  resealRegistryCredentials(): Promise<ResealResult> {
    return this.vault.reseal();
  }
}
