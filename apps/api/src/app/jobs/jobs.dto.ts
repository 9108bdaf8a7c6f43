import { ArgsType, Field, ID, Int, PickType } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { JobState, JobType } from '@drydock/jobs';
import { EngineField } from '../engine/engine-field';

/** `GET /v1/jobs` and `jobs(...)`. */
@ArgsType()
export class ListJobsQuery {
  @Field(() => JobType, { nullable: true }) @ApiPropertyOptional({ enum: JobType }) @IsOptional() @IsEnum(JobType) type?: JobType;
  @Field(() => JobState, { nullable: true }) @ApiPropertyOptional({ enum: JobState }) @IsOptional() @IsEnum(JobState) state?: JobState;
  @EngineField('only the jobs routed to this engine') engine?: string;
  @Field(() => Int, { nullable: true }) @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

/**
 * The highest sequence a client may name. GraphQL's Int is 32-bit, and no
 * job comes near it: the log budget stops a job's events far below.
 */
export const MAX_SEQUENCE = 2 ** 31 - 1;

export class JobEventsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SEQUENCE, description: 'first sequence to replay (default 1, or Last-Event-ID + 1)' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_SEQUENCE) from?: number;
}

@ArgsType()
export class JobEventsArgs {
  @Field(() => ID) @IsString() @MaxLength(64) jobId!: string;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(MAX_SEQUENCE) fromSequence?: number;
}

@ArgsType()
export class JobUpdatedArgs extends PickType(ListJobsQuery, ['type', 'state'] as const, ArgsType) {}
