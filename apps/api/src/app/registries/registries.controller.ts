import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { RegistryCredentialBody, RegistryTeamQuery } from './registries.dto';
import { Registry, ResealResult } from './registry.model';
import { RegistryCredentials } from './registry-credentials.service';

@ApiTags('registries')
@Controller('v1/registries')
export class RegistriesController {
  constructor(private readonly vault: RegistryCredentials) {}

  /** Hosts and usernames the caller's team has logins for (every team's, for an admin). Never a password. */
  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [Registry] })
  @ApiOperation({ operationId: 'listRegistries' })
  list(@CurrentPrincipal() principal: Principal): Promise<Registry[]> {
    return this.vault.list(principal);
  }

  /**
   * After a key rotation: seals every credential still under
   * DRYDOCK_SECRET_KEY_PREVIOUS with DRYDOCK_SECRET_KEY, and counts those
   * neither key opens. Once it answers 0 and 0, the previous key can go.
   */
  @Post('reseal')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: ResealResult })
  @ApiOperation({ operationId: 'resealRegistryCredentials' })
  reseal(): Promise<ResealResult> {
    return this.vault.reseal();
  }

  /** `docker login`: checked against the registry first (REGISTRY_UNAUTHORIZED when refused), then stored encrypted. */
  @Put(':host/credential')
  @RequireRole('admin')
  @ApiParam({ name: 'host', example: 'localhost:5000' })
  @ApiOkResponse({ type: Registry })
  @ApiOperation({ operationId: 'setRegistryCredential' })
  set(@Param('host') host: string, @Body() body: RegistryCredentialBody, @CurrentPrincipal() principal: Principal): Promise<Registry> {
    return this.vault.set(principal, { registry: host, username: body.username, password: body.password, team: body.team });
  }

  /** `docker logout`; idempotent. */
  @Delete(':host/credential')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiParam({ name: 'host', example: 'localhost:5000' })
  @ApiNoContentResponse()
  @ApiOperation({ operationId: 'removeRegistryCredential' })
  async remove(@Param('host') host: string, @Query() query: RegistryTeamQuery, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.vault.remove(principal, host, query.team);
  }
}
