import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { ErrorCode } from '@drydock/docker';
import type { GraphQLFormattedError } from 'graphql';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Apollo's own codes for malformed requests, in Drydock's vocabulary. */
const APOLLO_CODES: Record<string, ErrorCode> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.VALIDATION_FAILED,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.VALIDATION_FAILED,
  BAD_USER_INPUT: ErrorCode.VALIDATION_FAILED,
  BAD_REQUEST: ErrorCode.VALIDATION_FAILED,
  PERSISTED_QUERY_NOT_SUPPORTED: ErrorCode.VALIDATION_FAILED,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.VALIDATION_FAILED,
  INTERNAL_SERVER_ERROR: ErrorCode.INTERNAL,
};

export function formatGraphQLError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const raw = String(formatted.extensions?.['code'] ?? 'INTERNAL_SERVER_ERROR');
  const code = raw in ErrorCode ? raw : (APOLLO_CODES[raw] ?? ErrorCode.INTERNAL);
  const message = code === ErrorCode.INTERNAL ? 'internal error' : formatted.message;
  // Stack traces stay in the logs.
  const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, message, extensions: { ...extensions, code } };
}

export function graphqlOptions(
  onConnect: (ctx: { connectionParams?: Record<string, unknown> }) => Promise<boolean | Record<string, unknown>> | boolean,
): ApolloDriverConfig {
  // In the source tree the emitted schema is kept up to date and committed; a deployed build keeps it in memory.
  const schemaFile = join(process.cwd(), 'apps/api/schema.gql');
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: existsSync(join(process.cwd(), 'apps/api/project.json')) ? schemaFile : true,
    sortSchema: true,
    playground: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: formatGraphQLError,
    subscriptions: {
      'graphql-ws': { path: '/graphql', onConnect: onConnect as never },
    },
    context: (ctx: Record<string, unknown>) => ctx,
  };
}
