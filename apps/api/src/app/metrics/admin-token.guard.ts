import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { roleAtLeast } from '../auth/principal';
import { bearerToken, findToken, GENERATED_TOKENS_FILE, loadTokens } from '../auth/token.service';
import { parseTokensFile } from '../auth/tokens-file';
import { APP_CONFIG, type AppConfig } from '../config/config';

type Tokens = ReturnType<typeof loadTokens>;

/**
 * The admin-token check where the global AuthGuard is absent (a worker's
 * port): 401 without a known token, 403 for another role. A worker mints no
 * token: it reads DRYDOCK_TOKENS_FILE, or the admin token the API made in the
 * shared data directory, once that exists (the API may make it after the worker starts).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private tokens: Tokens | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.tokens = config.tokens === null ? null : loadTokens(config.tokens);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    const principal = token === null ? null : findToken(this.known(), token);
    if (principal === null) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="drydock"');
      throw new DrydockError(ErrorCode.UNAUTHENTICATED, token === null ? 'missing bearer token: send "Authorization: Bearer <token>"' : 'invalid bearer token');
    }
    if (!roleAtLeast(principal.role, 'admin')) {
      throw new DrydockError(ErrorCode.FORBIDDEN, `token "${principal.name}" has role ${principal.role}; metrics need admin`);
    }
    request.principal = principal;
    return true;
  }

  private known(): Tokens {
    if (this.tokens !== null) return this.tokens;
    const file = join(this.config.dataDir, GENERATED_TOKENS_FILE);
    try {
      this.tokens = loadTokens(parseTokensFile(readFileSync(file, 'utf8'), file));
      return this.tokens;
    } catch {
      return [];
    }
  }
}
