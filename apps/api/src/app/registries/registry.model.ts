import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { REGISTRY_HOST } from '../common/validation';

const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Printable, no control characters: what a registry login can hold. */
const PRINTABLE = /^\P{Cc}+$/u;

/** A stored registry login as it may be shown: host and username, never the password. */
@ObjectType()
export class Registry {
  @Field() @ApiProperty({ example: 'localhost:5000' }) host!: string;
  @Field() @ApiProperty() username!: string;
  @Field() @ApiProperty({ description: 'the team whose pushes and pulls use it' }) team!: string;
  @Field() @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @Field() @ApiProperty({ description: 'name of the token that stored it' }) updatedBy!: string;
}

/** What re-sealing the vault under the current key did. */
@ObjectType()
export class ResealResult {
  @Field(() => Int) @ApiProperty({ description: 'credentials sealed under DRYDOCK_SECRET_KEY_PREVIOUS, now under DRYDOCK_SECRET_KEY' }) resealed!: number;
  @Field(() => Int) @ApiProperty({ description: 'credentials neither key opens: store them again' }) unreadable!: number;
}

/** `PUT /v1/registries/{host}/credential`. */
export class RegistryCredentialBody {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(256) @Matches(PRINTABLE, { message: 'username must not contain control characters' })
  username!: string;

  @ApiProperty({ format: 'password', writeOnly: true, description: 'checked against the registry, stored encrypted, never returned' })
  @IsString() @MinLength(1) @MaxLength(4096) @Matches(PRINTABLE, { message: 'password must not contain control characters' })
  password!: string;

  @ApiPropertyOptional({ description: "admins: another team's vault (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: 'team must be 1-64 letters, digits, ".", "_" or "-"' })
  team?: string;
}

export class RegistryTeamQuery {
  @ApiPropertyOptional({ description: "admins: another team's vault (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: 'team must be 1-64 letters, digits, ".", "_" or "-"' })
  team?: string;
}

@InputType()
export class RegistryCredentialInput {
  @Field({ description: 'host[:port], e.g. localhost:5000 or docker.io' })
  @IsString() @MaxLength(255) @Matches(REGISTRY_HOST, { message: 'registry must be a host[:port]' })
  registry!: string;

  @Field() @IsString() @MinLength(1) @MaxLength(256) @Matches(PRINTABLE, { message: 'username must not contain control characters' })
  username!: string;

  @Field() @IsString() @MinLength(1) @MaxLength(4096) @Matches(PRINTABLE, { message: 'password must not contain control characters' })
  password!: string;

  @Field({ nullable: true, description: "another team's vault (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: 'team must be 1-64 letters, digits, ".", "_" or "-"' })
  team?: string;
}
