import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditLog } from '../audit/audit.service';
import { describeCall, isMutation } from '../audit/describe-call';
import { recordRefusal } from '../audit/record-refusal';
import { IS_PUBLIC, REQUIRED_ROLE, type GraphQLContext } from './decorators';
import { roleAtLeast, type Principal, type TokenRole } from './principal';
import { MutationRateLimiter } from './rate-limiter';
import { TokenService } from './token.service';

/**
 * The one global guard, for REST and GraphQL (HTTP and graphql-ws) alike:
 * who is calling (401), whether the role suffices (403), and the per-token
 * mutation budget (429). A handler without @RequireRole is admin-only.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly limiter: MutationRateLimiter,
    private readonly audit: AuditLog,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const type = context.getType<string>();
    if (type !== 'http' && type !== 'graphql') return false;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const principal = type === 'http' ? this.authenticateHttp(context) : this.graphqlPrincipal(context);
    const required = this.reflector.getAllAndOverride<TokenRole | undefined>(REQUIRED_ROLE, targets) ?? 'admin';
    const mutation = isMutation(context);
    if (!roleAtLeast(principal.role, required)) {
      const error = new DrydockError(
        ErrorCode.FORBIDDEN,
        `token "${principal.name}" has role ${principal.role}; ${describeCall(context).action} needs ${required}`,
      );
      throw await recordRefusal(this.audit, context, principal, error);
    }
    // Over GraphQL HTTP the operation's every mutation field was counted at once (graphql-auth.ts); over
    // REST and graphql-ws each call counts here. Audit hook: a RateLimitedError thrown here is not
    // recorded yet (the audit service's owner is to record it, as the FORBIDDEN above).
    if (mutation && !(type === 'graphql' && GqlExecutionContext.create(context).getContext<GraphQLContext>().rateLimited)) {
      try {
        await this.limiter.consume(principal);
      } catch (error) {
        throw await recordRefusal(this.audit, context, principal, error);
      }
    }
    return true;
  }

  private authenticateHttp(context: ExecutionContext): Principal {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    try {
      request.principal = this.tokens.fromAuthorization(request.headers.authorization);
      return request.principal;
    } catch (error) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="drydock"');
      throw error;
    }
  }

  /** Over HTTP the context function, over graphql-ws onConnect, has already authenticated the caller. */
  private graphqlPrincipal(context: ExecutionContext): Principal {
    const principal = GqlExecutionContext.create(context).getContext<GraphQLContext>().principal;
    if (!principal) throw new DrydockError(ErrorCode.UNAUTHENTICATED, 'missing bearer token');
    return principal;
  }
}
