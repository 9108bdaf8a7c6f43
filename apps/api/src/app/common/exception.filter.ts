import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '@drydock/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf, statusOfError } from './problem';
import { toDrydockError } from './to-drydock-error';

/**
 * The one catch-all: every error leaves as problem+json (REST) or as a GraphQL
 * error whose extensions carry the same code.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): unknown {
    const error = toDrydockError(exception);
    const status = statusOfError(error);
    // Only our own faults carry a stack to the log; an engine or registry refusal is the outside world's.
    if (error.code === ErrorCode.INTERNAL) this.logger.error({ err: exception, code: error.code }, error.message);
    else if (status >= 500) this.logger.warn({ code: error.code }, error.message);

    if (host.getType<string>() === 'graphql') {
      const retryAfterSeconds = (exception as { retryAfterSeconds?: number }).retryAfterSeconds;
      return new GraphQLError(error.message, {
        extensions: { ...error.details, code: error.code, status, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) },
      });
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (reply.sent) return undefined;
    sendProblem(reply, exception, request.id);
    return undefined;
  }
}

export function sendProblem(reply: FastifyReply, exception: unknown, requestId: string): void {
  const error = toDrydockError(exception);
  const problem = problemOf(error, requestId);
  const retryAfter = (exception as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  void reply.status(problem.status).type('application/problem+json').send(problem);
}
