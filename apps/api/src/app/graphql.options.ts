import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { ErrorCode, isDrydockError, isRedisUnreachable } from '@drydock/core';
import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyRequest } from 'fastify';
import {
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toDrydockError } from './common/to-drydock-error';

export const WS_INIT_TIMEOUT_MS = 3_000;

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

/** What graphql-ws hands onConnect: the init payload and the socket (to close it with 4401). */
export interface WsConnectionContext {
  connectionParams?: Record<string, unknown>;
  extra: { socket: { close(code: number, reason: string): void }; request?: unknown; principal?: unknown };
}

/** Authentication and limits, supplied by the app module (AuthModule) so this file stays free of DI. */
export interface GraphQLHooks {
  /** The context of an operation over HTTP; throwing a GraphQLError with extensions.http.status answers that status. */
  httpContext?: (request: FastifyRequest) => Promise<object> | object;
  plugins?: ApolloServerPlugin[];
  /** Extra validation rules (depth, selections) for HTTP and graphql-ws alike. */
  validationRules?: ValidationRule[];
  /** Parser token cap: bounds the work a hostile document costs before validation. */
  maxTokens?: number;
}

function isWsContext(ctx: object): ctx is WsConnectionContext & { connectionInitReceived: boolean } {
  return 'connectionInitReceived' in ctx && 'extra' in ctx;
}

/**
 * graphql-ws parses inside a try without a catch, so a syntax error there would close the socket
 * with 4500; this parse never throws, and the validate below reports what it caught instead.
 */
function wsParseAndValidate(rules: ValidationRule[], maxTokens: number | undefined) {
  const syntaxErrors = new WeakMap<DocumentNode, GraphQLError>();
  return {
    parse: (source: string): DocumentNode => {
      try {
        return parse(source, maxTokens ? { maxTokens } : {});
      } catch (error) {
        const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };
        syntaxErrors.set(document, error instanceof GraphQLError ? error : new GraphQLError('query must be a GraphQL document'));
        return document;
      }
    },
    validate: (schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] => {
      const syntaxError = syntaxErrors.get(document);
      return syntaxError ? [syntaxError] : validate(schema, document, [...specifiedRules, ...rules]);
    },
  };
}

/**
 * graphql-ws sends errors as graphql-js made them; over HTTP Apollo's
 * formatError gives them Drydock's codes. An error without a path comes
 * before execution (syntax, validation, a variable its type cannot hold):
 * the request's fault.
 */
export function formatWsError(error: GraphQLError): GraphQLFormattedError {
  const formatted = error.toJSON();
  if (formatted.extensions?.['code'] || formatted.path) return formatGraphQLError(formatted);
  // No path and no code: the document's (or its variables') own fault, unless Redis broke underneath while subscribing.
  if (error.originalError && (isDrydockError(error.originalError) || isRedisUnreachable(error.originalError))) {
    const cause = toDrydockError(error.originalError);
    return formatGraphQLError({ ...formatted, message: cause.message, extensions: { ...formatted.extensions, code: cause.code } });
  }
  return formatGraphQLError({ ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.VALIDATION_FAILED } });
}

const wsErrorCodes = {
  onError: (_ctx: unknown, _id: string, _payload: unknown, errors: readonly GraphQLError[]) => errors.map(formatWsError),
  onNext: (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: ExecutionResult) =>
    result.errors ? { ...result, errors: result.errors.map(formatWsError) } : result,
};

export function graphqlOptions(
  onConnect: (ctx: WsConnectionContext) => Promise<boolean | Record<string, unknown>> | boolean,
  hooks: GraphQLHooks = {},
): ApolloDriverConfig {
  const rules = hooks.validationRules ?? [];
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
    validationRules: rules,
    // Drydock sets no cache hints; Apollo's default cache-control plugin would still run a hook per field.
    plugins: [ApolloServerPluginCacheControlDisabled(), ...(hooks.plugins ?? [])],
    ...(hooks.maxTokens ? { parseOptions: { maxTokens: hooks.maxTokens } } : {}),
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        // A socket that never says connection_init is closed (4408) rather than held open unauthenticated.
        connectionInitWaitTimeout: WS_INIT_TIMEOUT_MS,
        onConnect: onConnect as never,
        ...wsParseAndValidate(rules, hooks.maxTokens),
        ...wsErrorCodes,
      },
    },
    // Over graphql-ws the operation's context is the connection's: onConnect put the principal on it.
    context: (ctx: object) => {
      if (isWsContext(ctx)) {
        return { req: ctx.extra.request, principal: ctx.extra.principal, connectionParams: ctx.connectionParams };
      }
      return hooks.httpContext ? hooks.httpContext(ctx as FastifyRequest) : ctx;
    },
  };
}
