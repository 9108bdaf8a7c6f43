import { applyDecorators } from '@nestjs/common';
import { countWildcards } from '@drydock/docker';
import { IsOptional, IsString, Matches, MaxLength, MinLength, ValidateBy } from 'class-validator';

/**
 * Wildcards (`*`, `?`, `[...]`) one reference filter may hold. The matcher is
 * linear in the name per wildcard; the cap keeps that factor small and says
 * plainly that a pattern of fifty stars is no filter anyone means.
 */
export const MAX_REFERENCE_WILDCARDS = 16;

/** The `reference` filter of the image list, REST query and GraphQL input alike: one rule for both. */
export const ReferenceGlob = () =>
  applyDecorators(
    IsOptional(),
    IsString(),
    MinLength(1),
    MaxLength(512),
    Matches(/^[A-Za-z0-9._\-/:@*?[\]!]+$/, { message: 'reference filter may hold only reference characters and * ? [ ]' }),
    ValidateBy({
      name: 'maxWildcards',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || countWildcards(value) <= MAX_REFERENCE_WILDCARDS,
        defaultMessage: () => `reference filter may hold at most ${MAX_REFERENCE_WILDCARDS} wildcards (* ? [...])`,
      },
    }),
  );
