import { applyDecorators } from '@nestjs/common';
import { Field } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ENGINE_NAME } from '../config/engines';

/**
 * `engine` on a request (REST body or query, GraphQL input or argument): the
 * configured engine to use. Absent, the router chooses (README: routing); a
 * well-formed name that is not configured is UNKNOWN_ENGINE (400) from the pool.
 */
export function EngineField(description = 'the engine to use; absent, Drydock routes the request'): PropertyDecorator {
  return applyDecorators(
    Field(() => String, { nullable: true, description }),
    ApiPropertyOptional({ example: 'default', description }),
    IsOptional(),
    IsString(),
    Matches(ENGINE_NAME, { message: 'engine must be an engine name (lower-case letters, digits, - and _)' }),
  );
}
