import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concat, concatMap, defer, from, ignoreElements, map, mergeMap, Observable, throwError } from 'rxjs';
import { toDrydockError } from '../common/to-drydock-error';
import { principalOf } from '../auth/decorators';
import { AuditLog } from './audit.service';
import { describeCall, isMutation } from './describe-call';

/**
 * Records every mutation that passed the guards, REST or GraphQL, with its
 * outcome (the guards record the ones they refuse: an interceptor never runs
 * for those). The answer waits for the entry: a client that got an answer can
 * count on the trail having it, whatever happens to this process next.
 */
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
    const record = (outcome: string): Promise<void> => {
      // A streaming handler emits many values; one action, one entry.
      if (recorded) return Promise.resolve();
      recorded = true;
      return this.audit.record({ principal, action: call.action, target: call.target, outcome, requestId: call.requestId });
    };
    const handled = next.handle().pipe(concatMap((value) => from(record('ok')).pipe(map(() => value))));
    return concat(handled, defer(() => record('ok')).pipe(ignoreElements())).pipe(
      catchError((error: unknown) => from(record(toDrydockError(error).code)).pipe(mergeMap(() => throwError(() => error)))),
    );
  }
}
