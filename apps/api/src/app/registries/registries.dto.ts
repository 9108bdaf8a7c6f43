import { Field, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { REGISTRY_HOST, TEAM, TEAM_MESSAGE } from '../common/validation';

/** Printable, no control characters: what a registry login can hold. */
const PRINTABLE = /^\P{Cc}+$/u;

/** `setRegistryCredential(input:)`; over REST the path names the registry. */
@InputType('RegistryCredentialInput')
export class RegistryCredentialInput {
  @Field({ description: 'host[:port], e.g. localhost:5000 or docker.io' })
  @ApiProperty({ example: 'localhost:5000' })
  @IsString() @MaxLength(255) @Matches(REGISTRY_HOST, { message: 'registry must be a host[:port]' })
  registry!: string;

  @Field() @ApiProperty()
  @IsString() @MinLength(1) @MaxLength(256) @Matches(PRINTABLE, { message: 'username must not contain control characters' })
  username!: string;

  @Field() @ApiProperty({ format: 'password', writeOnly: true, description: 'checked against the registry, stored encrypted, never returned' })
  @IsString() @MinLength(1) @MaxLength(4096) @Matches(PRINTABLE, { message: 'password must not contain control characters' })
  password!: string;

  @Field({ nullable: true, description: "another team's vault (default: the token's team)" })
  @ApiPropertyOptional({ description: "admins: another team's vault (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: TEAM_MESSAGE })
  team?: string;
}

/** `PUT /v1/registries/{host}/credential`. */
export class RegistryCredentialBody extends OmitType(RegistryCredentialInput, ['registry'] as const) {}

/** `DELETE /v1/registries/{host}/credential`. */
export class RegistryTeamQuery {
  @ApiPropertyOptional({ description: "admins: another team's vault (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: TEAM_MESSAGE })
  team?: string;
}
