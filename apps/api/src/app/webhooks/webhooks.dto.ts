import { Field, InputType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_URL_MAX } from './target-policy';
import { WEBHOOK_EVENTS } from './webhook-events';

export const DESCRIPTION_MAX = 500;

/** `POST /v1/webhooks`, `createWebhook(input:)`. The URL's target is checked by the service (400 WEBHOOK_TARGET_REFUSED). */
@InputType('CreateWebhookInput')
export class CreateWebhookInput {
  @Field({ description: `http(s) URL, at most ${WEBHOOK_URL_MAX} characters; private and loopback addresses only where DRYDOCK_WEBHOOK_ALLOW lists them` })
  @ApiProperty({ example: 'https://ci.example.com/drydock', maxLength: WEBHOOK_URL_MAX })
  @IsString() @MaxLength(WEBHOOK_URL_MAX)
  url!: string;

  @Field(() => [String], { description: `one or more of ${WEBHOOK_EVENTS.join(', ')}` })
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(WEBHOOK_EVENTS.length * 2) @IsIn(WEBHOOK_EVENTS, { each: true })
  events!: string[];

  @Field({ nullable: true, description: `at most ${DESCRIPTION_MAX} characters` })
  @ApiPropertyOptional({ maxLength: DESCRIPTION_MAX })
  @IsOptional() @IsString() @MaxLength(DESCRIPTION_MAX)
  description?: string;

  @Field({ nullable: true, description: "admins only: get every team's events rather than the token's team's" })
  @ApiPropertyOptional({ description: "admins only: get every team's events rather than the token's team's" })
  @IsOptional() @IsBoolean()
  allTeams?: boolean;
}
