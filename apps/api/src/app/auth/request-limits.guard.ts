import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '../audit/audit.service';
import { recordRefusal } from '../audit/record-refusal';

/** Deeper than any body Drydock takes, far shallower than what overflows a recursive walker. */
export const MAX_BODY_DEPTH = 32;

/** How deep a parsed JSON value nests, counted without recursion and abandoned past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    const proto = Object.getPrototypeOf(item) as unknown;
    // Only what JSON.parse makes: a stream (an upload) or a Buffer is not walked.
    if (!Array.isArray(item) && proto !== Object.prototype && proto !== null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Refuses a JSON body nested deeper than MAX_BODY_DEPTH before any pipe sees
 * it: the ValidationPipe and class-transformer walk bodies recursively, and a
 * few thousand `[` within the size cap would otherwise overflow the stack (a 500).
 */
@Injectable()
export class RequestLimitsGuard implements CanActivate {
  constructor(private readonly audit: AuditLog) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.body !== undefined && jsonDepth(request.body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      const error = new DrydockError(ErrorCode.VALIDATION_FAILED, `request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
      // Describing the call walks only one level of the body: safe on this one.
      throw await recordRefusal(this.audit, context, request.principal, error);
    }
    return true;
  }
}
