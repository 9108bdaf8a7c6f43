import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { ResealResult } from '../registries/registry.model';
import { BuildSecret } from './build-secret.model';
import { BuildSecrets } from './build-secrets.service';
import { BuildSecretBody, SecretTeamQuery } from './secrets.dto';

/** Build secrets: admins store and remove them; nobody reads a value back. */
@ApiTags('secrets')
@Controller('v1/secrets')
@RequireRole('admin')
export class SecretsController {
  constructor(private readonly secrets: BuildSecrets) {}

  /** Ids, teams and update times of the stored secrets (every team's, or `?team=`'s). Never a value. */
  @Get()
  @ApiOkResponse({ type: [BuildSecret] })
  @ApiOperation({ operationId: 'listBuildSecrets' })
  list(@Query() query: SecretTeamQuery): Promise<BuildSecret[]> {
    return this.secrets.list(query.team);
  }

  /** After a key rotation: seals every secret still under DRYDOCK_SECRET_KEY_PREVIOUS with DRYDOCK_SECRET_KEY. */
  @Post('reseal')
  @HttpCode(200)
  @ApiOkResponse({ type: ResealResult })
  @ApiOperation({ operationId: 'resealBuildSecrets' })
  reseal(): Promise<ResealResult> {
    return this.secrets.reseal();
  }

  /** Stores or replaces a secret; 413 PAYLOAD_TOO_LARGE past 500 KiB, 409 QUOTA_EXCEEDED past DRYDOCK_TEAM_MAX_SECRETS. */
  @Put(':id')
  @ApiParam({ name: 'id', example: 'npm-token' })
  @ApiOkResponse({ type: BuildSecret })
  @ApiOperation({ operationId: 'setBuildSecret' })
  set(@Param('id') id: string, @Body() body: BuildSecretBody, @CurrentPrincipal() principal: Principal): Promise<BuildSecret> {
    return this.secrets.set(principal, { id, value: body.value, team: body.team });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiParam({ name: 'id', example: 'npm-token' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'the team has no such secret (SECRET_NOT_FOUND)' })
  @ApiOperation({ operationId: 'removeBuildSecret' })
  async remove(@Param('id') id: string, @Query() query: SecretTeamQuery, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.secrets.remove(principal, id, query.team);
  }
}
