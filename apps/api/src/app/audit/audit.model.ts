import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** One audited action: who did what to what, when, and how it ended. */
@ObjectType()
export class AuditEntry {
  @Field() @ApiProperty({ description: 'stream id; newest first in listings', example: '1718000000000-0' }) id!: string;
  @Field() @ApiProperty({ format: 'date-time' }) at!: string;
  @Field() @ApiProperty({ description: 'the token name from the tokens file' }) tokenName!: string;
  @Field() @ApiProperty() team!: string;
  @Field() @ApiProperty({ example: 'builder' }) role!: string;
  @Field() @ApiProperty({ example: 'POST /v1/images/:ref/tags', description: 'REST method and route, `mutation <field>`, or `job <TYPE>`' }) action!: string;
  @Field() @ApiProperty({ example: 'ref=busybox:1 repository=team-a/app tag=v1' }) target!: string;
  @Field() @ApiProperty({ example: 'ok', description: '`ok` or the error code it ended with' }) outcome!: string;
  @Field(() => String, { nullable: true }) @ApiPropertyOptional({ type: String, nullable: true }) requestId!: string | null;
}

@ArgsType()
export class AuditQuery {
  @Field(() => Int, { nullable: true })
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @Field({ nullable: true, description: 'only entries older than this id (paging)' })
  @ApiPropertyOptional({ description: 'only entries older than this id (paging)' })
  @IsOptional() @Matches(/^\d{1,15}-\d{1,10}$/, { message: 'before must be an audit entry id such as 1718000000000-0' })
  before?: string;
}
