import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { toDrydockError } from '../common/to-drydock-error';
import { principalOf } from '../auth/decorators';
import { AuditLog } from './audit.service';
import { describeCall, isMutation } from './describe-call';

/** Records every mutation that passed the guard, REST or GraphQL, with its outcome. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const type = context.getType<string>();
    if (type !== 'http' && type !== 'graphql') return next.handle();
    const principal = principalOf(context);
    if (!principal || !isMutation(context)) return next.handle();
    const call = describeCall(context);
    let recorded = false;
    const record = (outcome: string): void => {
      // A streaming handler emits many values; one action, one entry.
      if (recorded) return;
      recorded = true;
      void this.audit.record({ principal, action: call.action, target: call.target, outcome, requestId: call.requestId });
    };
    return next.handle().pipe(
      tap({
        next: () => record('ok'),
        complete: () => record('ok'),
        error: (error: unknown) => record(toDrydockError(error).code),
      }),
    );
  }
}
