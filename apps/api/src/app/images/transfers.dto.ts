import { Field, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { TimeoutSecondsField } from '../jobs/timeout-seconds';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PLATFORM } from '../common/validation';
import { EngineField } from '../engine/engine-field';

/** `POST /v1/images/pull` and `pullImage(input:)`. */
@InputType('PullImageInput')
export class PullImageInput {
  @Field() @ApiProperty({ example: 'localhost:5000/ouruser/sinatra@sha256:…' })
  @IsString() @MinLength(1) @MaxLength(512) reference!: string;

  @Field({ nullable: true }) @ApiPropertyOptional({ example: 'linux/amd64' })
  @IsOptional() @IsString() @Matches(PLATFORM, { message: 'platform must be os/arch[/variant]' }) platform?: string;

  @TimeoutSecondsField() timeoutSeconds?: number;

  @EngineField('the engine to pull into; absent, the healthy engine with the fewest waiting jobs') engine?: string;
}

/** `pushImage(input:)`; over REST the path names the reference. */
@InputType('PushImageInput')
export class PushImageInput {
  @Field() @ApiProperty({ example: 'localhost:5000/ouruser/sinatra' })
  @IsString() @MinLength(1) @MaxLength(512) reference!: string;

  @Field({ nullable: true }) @ApiPropertyOptional({ description: 'push every local tag of the repository, as `docker push ouruser/sinatra` did' })
  @IsOptional() @IsBoolean() allTags?: boolean;

  @TimeoutSecondsField() timeoutSeconds?: number;

  @EngineField('the engine to push from; absent, the one engine that has the image') engine?: string;
}

/** `POST /v1/images/{ref}/push`. */
export class PushImageBody extends OmitType(PushImageInput, ['reference'] as const) {}
