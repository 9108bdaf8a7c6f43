import { applyDecorators } from '@nestjs/common';
import { Field, Int } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Seven days: no job type's limit may be set higher (config.ts), so no request needs more. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/**
 * `timeoutSeconds` on a job request (REST body or query, GraphQL input): a
 * positive whole number of seconds; the job's type's limit caps it.
 */
export function TimeoutSecondsField(): PropertyDecorator {
  return applyDecorators(
    Field(() => Int, { nullable: true, description: "this job's time limit in seconds; the type's limit when absent or higher" }),
    ApiPropertyOptional({ minimum: 1, maximum: MAX_TIMEOUT_SECONDS, description: "this job's time limit; capped by the type's limit" }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(MAX_TIMEOUT_SECONDS),
  );
}
