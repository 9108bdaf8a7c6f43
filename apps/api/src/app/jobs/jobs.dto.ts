import { ArgsType, Field, ID, Int, PickType } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsEnum, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { JOB_PAGE_MAX, JobState, JobType } from '@drydock/jobs';
import { EngineField } from '../engine/engine-field';

/** `GET /v1/jobs` and `jobs(...)`. */
@ArgsType()
export class ListJobsQuery {
  @Field(() => JobType, { nullable: true }) @ApiPropertyOptional({ enum: JobType }) @IsOptional() @IsEnum(JobType) type?: JobType;
  @Field(() => JobState, { nullable: true }) @ApiPropertyOptional({ enum: JobState }) @IsOptional() @IsEnum(JobState) state?: JobState;
  @EngineField('only the jobs routed to this engine') engine?: string;
  @Field(() => Int, { nullable: true }) @ApiPropertyOptional({ minimum: 1, maximum: JOB_PAGE_MAX, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(JOB_PAGE_MAX) limit?: number;
  @Field(() => String, { nullable: true, description: "where the previous page ended: its `nextCursor` (REST: the `Link: rel=\"next\"` header)" })
  @ApiPropertyOptional({ description: 'where the previous page ended (the `Link: rel="next"` header carries it)' })
  @IsOptional() @IsString() @MaxLength(240) cursor?: string;
  @Field(() => String, { nullable: true, description: "admins: one team's jobs; others may only name their own" })
  @ApiPropertyOptional({ description: "admins: one team's jobs; others may only name their own (another is 403)" })
  @IsOptional() @IsString() @MaxLength(128) team?: string;
  @Field(() => String, { nullable: true, description: 'created at or after this ISO 8601 time' })
  @ApiPropertyOptional({ format: 'date-time', description: 'created at or after this ISO 8601 time' })
  @IsOptional() @IsISO8601({ strict: true }) since?: string;
  @Field(() => String, { nullable: true, description: 'created at or before this ISO 8601 time' })
  @ApiPropertyOptional({ format: 'date-time', description: 'created at or before this ISO 8601 time' })
  @IsOptional() @IsISO8601({ strict: true }) until?: string;
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
