import { applyDecorators } from '@nestjs/common';
import { Field } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/**
 * `engine` on a request (REST body or query, GraphQL input or argument): the
 * configured engine to use. Absent, the router chooses (README: routing); a
 * name that is not configured is UNKNOWN_ENGINE (400).
 */
export function EngineField(description = 'the engine to use; absent, Drydock routes the request'): PropertyDecorator {
  return applyDecorators(
    Field(() => String, { nullable: true, description }),
    ApiPropertyOptional({ example: 'default', description }),
    IsOptional(),
    IsString(),
    MinLength(1),
    // Engine names are at most 63 characters (config/engines.ts); any other string is UNKNOWN_ENGINE from the pool.
    MaxLength(63),
  );
}
