import { GraphQLError } from 'graphql';
import { formatWsError } from './graphql.options';

describe('formatWsError', () => {
  it('reads an error without path or code as the document being invalid', () => {
    expect(formatWsError(new GraphQLError('Cannot query field "nope" on type "Query".')).extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('reads Redis breaking underneath a subscription as REDIS_UNAVAILABLE, without the client library message', () => {
    const broken = new GraphQLError('Too many Cluster redirections. Last error: Error: Connection is closed.', {
      originalError: new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'),
    });
    const formatted = formatWsError(broken);
    expect(formatted.extensions).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(formatted.message).not.toContain('Cluster redirections');
  });

  it('keeps a variable the schema cannot take (its coercion error the cause) a validation error', () => {
    const coercion = new GraphQLError('Variable "$from" got invalid value 1000000000000; Int cannot represent non 32-bit signed integer value', {
      originalError: new TypeError('Int cannot represent non 32-bit signed integer value: 1000000000000'),
    });
    expect(formatWsError(coercion).extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
