import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { NamespacePolicy } from './namespace.policy';
import { MutationRateLimiter } from './rate-limiter';
import { RequestLimitsGuard } from './request-limits.guard';
import { TokenService } from './token.service';

/**
 * Tokens, the global guard and the namespace policy. Global, so any feature
 * module can inject NamespacePolicy without importing this one.
 */
@Global()
@Module({
  providers: [
    TokenService,
    NamespacePolicy,
    MutationRateLimiter,
    // In this order: who is asking (401/403/429) before what they sent (400).
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RequestLimitsGuard },
  ],
  exports: [TokenService, NamespacePolicy, MutationRateLimiter],
})
export class AuthModule {}
