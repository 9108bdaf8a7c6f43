import { Field, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PLATFORM } from '../common/validation';
import { TimeoutSecondsField } from '../jobs/timeout-seconds';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';


@InputType('PullImageInput')
export class PullImageBody {
  @Field() @ApiProperty({ example: 'localhost:5000/ouruser/sinatra@sha256:…' })
  @IsString() @MinLength(1) @MaxLength(512) reference!: string;

  @Field({ nullable: true }) @ApiPropertyOptional({ example: 'linux/amd64' })
  @IsOptional() @IsString() @Matches(PLATFORM, { message: 'platform must be os/arch[/variant]' }) platform?: string;

  @TimeoutSecondsField() timeoutSeconds?: number;
}

export class PushImageBody {
  @ApiPropertyOptional({ description: 'push every local tag of the repository, as `docker push ouruser/sinatra` did' })
  @IsOptional() @IsBoolean() allTags?: boolean;

  @TimeoutSecondsField() timeoutSeconds?: number;
}

@InputType('PushImageInput')
export class PushImageInput {
  @Field() @IsString() @MinLength(1) @MaxLength(512) reference!: string;
  @Field({ nullable: true }) @IsOptional() @IsBoolean() allTags?: boolean;
  @TimeoutSecondsField() timeoutSeconds?: number;
}
