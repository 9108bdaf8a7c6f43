import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { FastifyRequest } from 'fastify';
import type { Principal, TokenRole } from './principal';

export const REQUIRED_ROLE = 'drydock:required-role';
export const IS_PUBLIC = 'drydock:public';

/**
 * The least role that may call a handler (REST route or GraphQL resolver).
 * A handler without it is admin-only: the guard fails closed. On a class it
 * applies to every handler the class does not override.
 */
export const RequireRole = (role: TokenRole) =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLE, role),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'no or unknown bearer token (UNAUTHENTICATED)' }),
    ApiForbiddenResponse({ description: `needs role ${role} or higher, or a namespace the token may write (FORBIDDEN)` }),
  );

/** No token needed (health probes). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The GraphQL context Drydock builds, over HTTP and over graphql-ws alike. */
export interface GraphQLContext {
  req?: FastifyRequest;
  principal?: Principal;
  /** graphql-ws only: the connection's init payload. */
  connectionParams?: Record<string, unknown>;
  /** The operation has already been counted by the mutation rate limit. */
  rateLimited?: boolean;
}

/** The caller of a REST route or GraphQL resolver, or undefined on a public route. */
export function principalOf(context: ExecutionContext): Principal | undefined {
  if (context.getType<string>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<GraphQLContext>().principal;
  }
  if (context.getType() === 'http') return context.switchToHttp().getRequest<FastifyRequest>().principal;
  return undefined;
}

/** `@CurrentPrincipal() principal: Principal` on a REST handler or resolver; never undefined behind the guard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = principalOf(context);
  // Only a @Public() handler can get here without one, and it has no business asking.
  if (!principal) throw new DrydockError(ErrorCode.UNAUTHENTICATED, 'this operation needs a bearer token');
  return principal;
});
