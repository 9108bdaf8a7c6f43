import { Field, ID, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { TEAM, TEAM_MESSAGE } from '../common/validation';
import { SECRET_ID, SECRET_MAX_BYTES } from './build-secrets.service';

const ID_MESSAGE = 'id must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
const VALUE_DESCRIPTION =
  `a UTF-8 string (JSON text), at most ${SECRET_MAX_BYTES} bytes encoded (BuildKit's limit; past it 413 PAYLOAD_TOO_LARGE); ` +
  'the build sees its UTF-8 bytes. Stored encrypted, never returned.';

/** `setBuildSecret(input:)`; over REST the path names the id. */
@InputType('BuildSecretInput')
export class BuildSecretInput {
  @Field(() => ID, { description: 'what `RUN --mount=type=secret,id=<id>` names' })
  @ApiProperty({ example: 'npm-token', pattern: SECRET_ID.source })
  @IsString() @Matches(SECRET_ID, { message: ID_MESSAGE })
  id!: string;

  // The byte cap is the service's (413, not a 400 from a character count).
  @Field({ description: VALUE_DESCRIPTION })
  @ApiProperty({ format: 'password', writeOnly: true, description: VALUE_DESCRIPTION })
  @IsString()
  value!: string;

  @Field(() => String, { nullable: true, description: "the team whose builds may mount it (default: the token's team)" })
  @ApiPropertyOptional({ description: "the team whose builds may mount it (default: the token's team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: TEAM_MESSAGE })
  team?: string;
}

/** `PUT /v1/secrets/{id}`. */
export class BuildSecretBody extends OmitType(BuildSecretInput, ['id'] as const) {}

/** `GET /v1/secrets`, `DELETE /v1/secrets/{id}`. */
export class SecretTeamQuery {
  @ApiPropertyOptional({ description: "a team (DELETE default: the token's team; GET default: every team)" })
  @IsOptional() @IsString() @Matches(TEAM, { message: TEAM_MESSAGE })
  team?: string;
}
