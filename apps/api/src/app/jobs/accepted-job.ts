import {
  applyDecorators,
  createParamDecorator,
  HttpCode,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { idempotencyKey } from '../common/idempotency';
import { JobModel } from './job.model';

/** Points `Location` at the job a handler answered with. */
@Injectable()
class JobLocationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<{ id: string }>): Observable<{ id: string }> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((job) => {
        void reply.header('location', `/v1/jobs/${job.id}`);
        return job;
      }),
    );
  }
}

/** A REST endpoint that queues a job: `202 Accepted`, `Location: /v1/jobs/{id}`, and the job as the body. */
export function AcceptedJob(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    HttpCode(202),
    UseInterceptors(JobLocationInterceptor),
    ApiHeader({ name: 'Idempotency-Key', required: false, description: 'the same key (per team, owner and job type) answers the same job' }),
    ApiAcceptedResponse({ type: JobModel, description: 'Location: /v1/jobs/{id}' }),
  );
}

/** The request's `Idempotency-Key`, checked (1..200 visible ASCII characters), or undefined. */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): string | undefined => {
  const header = context.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
  return idempotencyKey(Array.isArray(header) ? header[0] : header);
});
