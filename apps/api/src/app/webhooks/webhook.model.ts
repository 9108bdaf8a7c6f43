import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WEBHOOK_EVENTS } from './webhook-events';

export enum DeliveryStatusEnum {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(DeliveryStatusEnum, { name: 'WebhookDeliveryStatus' });

/** A webhook as anyone who may see it sees it: never its secret. */
@ObjectType()
export class Webhook {
  @Field(() => ID) @ApiProperty({ format: 'uuid' }) id!: string;
  @Field() @ApiProperty({ example: 'https://ci.example.com/drydock' }) url!: string;
  @Field(() => [String], { description: `of ${WEBHOOK_EVENTS.join(', ')}` })
  @ApiProperty({ enum: WEBHOOK_EVENTS, isArray: true })
  events!: string[];
  @Field() @ApiProperty() description!: string;
  @Field(() => String, { nullable: true, description: "the team whose events it gets; null: every team's (an admin's webhook)" })
  @ApiProperty({ type: String, nullable: true })
  team!: string | null;
  @Field() @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @Field({ description: 'name of the token that created it' }) @ApiProperty() createdBy!: string;
}

/** The answer to creating a webhook: the only time its secret is shown. */
@ObjectType()
export class WebhookWithSecret extends Webhook {
  @Field({ description: 'the signing secret (`whsec_…`), shown this once; verify `webhook-signature` with it' })
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret!: string;
}

@ObjectType()
export class WebhookDeliveryAttempt {
  @Field() @ApiProperty({ format: 'date-time' }) at!: string;
  @Field({ description: 'success, retry (timeout, connection error, 408, 429, 5xx) or failure (any other answer, a refused address)' })
  @ApiProperty({ enum: ['success', 'retry', 'failure'] })
  outcome!: string;
  @Field(() => Int, { nullable: true }) @ApiProperty({ type: Number, nullable: true }) responseCode!: number | null;
  @Field(() => String, { nullable: true }) @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @Field(() => Int) @ApiProperty() durationMs!: number;
}

@ObjectType()
export class WebhookDelivery {
  @Field(() => ID, { description: 'also the `webhook-id` header, the same on every attempt' }) @ApiProperty({ format: 'uuid' }) id!: string;
  @Field(() => ID) @ApiProperty({ format: 'uuid' }) webhookId!: string;
  @Field() @ApiProperty({ enum: WEBHOOK_EVENTS }) event!: string;
  @Field(() => DeliveryStatusEnum) @ApiProperty({ enum: DeliveryStatusEnum }) status!: DeliveryStatusEnum;
  @Field(() => Int) @ApiProperty({ description: 'attempts made so far' }) attemptCount!: number;
  @Field(() => Int, { nullable: true, description: "the last attempt's HTTP status" })
  @ApiProperty({ type: Number, nullable: true })
  responseCode!: number | null;
  @Field() @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @Field() @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' }) nextAttemptAt!: string | null;
  @Field(() => [WebhookDeliveryAttempt]) @ApiProperty({ type: [WebhookDeliveryAttempt] }) attempts!: WebhookDeliveryAttempt[];
}
