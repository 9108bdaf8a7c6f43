import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { WsConnectionContext } from '../graphql.options';
import type { GraphQLContext } from './decorators';
import { fragmentsOf, rootFieldCount } from './query-limits';
import { MutationRateLimiter, RateLimitedError } from './rate-limiter';
import { bearerToken, TokenService } from './token.service';

/** graphql-ws's close code for an unauthenticated connection (its CloseCode.Unauthorized). */
export const WS_UNAUTHORIZED = 4401;

/** Authentication for GraphQL: the HTTP context, the graphql-ws handshake and the mutation rate limit. */
export function graphqlAuth(tokens: TokenService, limiter: MutationRateLimiter) {
  /** graphql-ws onConnect: a socket without a valid `connectionParams.authorization` is closed with 4401. */
  const onConnect = (ctx: WsConnectionContext): boolean => {
    const params = ctx.connectionParams ?? {};
    const header = params['authorization'] ?? params['Authorization'];
    const token = bearerToken(typeof header === 'string' ? header : undefined);
    const principal = token === null ? null : tokens.authenticate(token);
    if (principal === null) {
      // Returning false alone would close with 4403; a missing or bad token is 4401, as for HTTP's 401.
      ctx.extra.socket.close(WS_UNAUTHORIZED, token === null ? 'Unauthorized: missing bearer token' : 'Unauthorized: invalid bearer token');
      return false;
    }
    ctx.extra.principal = principal;
    return true;
  };

  /** The context of a GraphQL operation over HTTP; a missing or bad token answers 401 before anything runs. */
  const httpContext = async (request: FastifyRequest): Promise<GraphQLContext> => {
    try {
      const principal = tokens.fromAuthorization(request.headers.authorization);
      request.principal = principal;
      return { req: request, principal };
    } catch (error) {
      const message = error instanceof DrydockError ? error.message : 'invalid bearer token';
      throw new GraphQLError(message, {
        extensions: {
          code: ErrorCode.UNAUTHENTICATED,
          http: { status: 401, headers: new HeaderMap([['www-authenticate', 'Bearer realm="drydock"']]) },
        },
      });
    }
  };

  /**
   * Per HTTP operation: a subscription is refused (it is served over graphql-ws; executed over HTTP
   * its resolver would return an iterator where a value belongs), and one that mutates counts each
   * of its mutation fields (aliases, fragments expanded) against the token's budget before any of
   * them runs; over it, 429 with Retry-After and nothing runs. (Over graphql-ws the guard counts
   * each field as it runs.)
   */
  const httpOperationPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue: context }) {
          const contextValue = context as GraphQLContext;
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions are served over graphql-ws on this path, not over HTTP', {
              extensions: { code: ErrorCode.VALIDATION_FAILED, http: { status: 400 } },
            });
          }
          if (operation?.operation !== 'mutation' || !contextValue.principal) return;
          try {
            await limiter.consume(contextValue.principal, rootFieldCount(operation, fragmentsOf(document.definitions)));
          } catch (error) {
            if (!(error instanceof RateLimitedError)) throw error;
            // Audit hook: a refused operation never reaches the AuthGuard, so nothing records it. The audit
            // service (another change) is to record here: principal, the operation's mutation fields, RATE_LIMITED.
            throw new GraphQLError(error.message, {
              extensions: {
                code: ErrorCode.RATE_LIMITED,
                http: { status: 429, headers: new HeaderMap([['retry-after', String(error.retryAfterSeconds)]]) },
              },
            });
          }
          contextValue.rateLimited = true;
        },
      };
    },
  };

  return { onConnect, httpContext, httpOperationPlugin };
}
