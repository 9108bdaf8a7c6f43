import { applyDecorators } from '@nestjs/common';
import { Field } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ENGINE_NAME } from '../config/engines';

/**
 * An optional `engine` field of a REST query or body and a GraphQL input or argument: a name as
 * DRYDOCK_ENGINES allows it; a well-formed name that is not configured is UNKNOWN_ENGINE (400) later.
 */
export const EngineField = (description: string) =>
  applyDecorators(
    Field(() => String, { nullable: true, description }),
    ApiPropertyOptional({ description, example: 'default' }),
    IsOptional(),
    IsString(),
    Matches(ENGINE_NAME, { message: 'engine must be an engine name (lower-case letters, digits, - and _)' }),
  );
