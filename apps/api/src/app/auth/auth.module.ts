import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { AuthGuard } from './auth.guard';
import { NamespacePolicy } from './namespace.policy';
import { MutationRateLimiter } from './rate-limiter';
import { RequestLimitsGuard } from './request-limits.guard';
import { TokenService } from './token.service';

/**
 * Tokens, the global guards and the namespace policy: the API's alone (a
 * worker answers no request that needs a token). Feature modules whose
 * services check namespaces import it.
 */
@Module({
  // The guard records the refusals it makes.
  imports: [AuditModule],
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
