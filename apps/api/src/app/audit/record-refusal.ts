import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { toDrydockError } from '../common/to-drydock-error';
import type { AuditLog } from './audit.service';
import { describeCall, isMutation } from './describe-call';

/**
 * For guards: records a mutation they refuse, with the refusal's code, and
 * hands the error back to be thrown. Nest runs interceptors only after every
 * guard has let a call through, so the AuditInterceptor never sees these;
 * recording where the refusal is decided keeps one entry per call and lets the
 * answer wait for it, which an exception filter (called without being awaited)
 * could not.
 */
export async function recordRefusal(audit: AuditLog, context: ExecutionContext, principal: Principal | undefined, error: unknown): Promise<unknown> {
  if (principal && isMutation(context)) {
    const call = describeCall(context);
    await audit.record({ principal, action: call.action, target: call.target, outcome: toDrydockError(error).code, requestId: call.requestId });
  }
  return error;
}
