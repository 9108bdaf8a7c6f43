import type { ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import type { GraphQLResolveInfo } from 'graphql';
import type { GraphQLContext } from '../auth/decorators';

export interface CallDescription {
  /** The call mutates: a REST method other than GET/HEAD/OPTIONS, or a GraphQL mutation. */
  mutation: boolean;
  action: string;
  target: string;
  requestId: string | null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Arguments worth naming in an audit entry. An allowlist, not a denylist: a
 * body may carry passwords, build args, env or file contents, and none of
 * those belong in the trail.
 */
const TARGET_KEYS = new Set([
  'ref', 'id', 'jobId', 'reference', 'repository', 'tag', 'tags', 't', 'image', 'source',
  'host', 'registry', 'team', 'username', 'force', 'noprune', 'noPrune', 'dangling', 'until', 'labels', 'label', 'all', 'allTags', 'platform',
]);
const MAX_VALUE = 200;

function describeScalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_VALUE ? JSON.stringify(value).slice(1, -1) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Scalars, and arrays of scalars one level deep: a body refused for its depth is described too, without recursion. */
function describeValue(value: unknown): string | undefined {
  if (!Array.isArray(value)) return describeScalar(value);
  const parts = value.slice(0, 16).map(describeScalar).filter((part): part is string => part !== undefined);
  return parts.length ? parts.join(',') : undefined;
}

/** `key=value` for the allowlisted arguments, one level of input objects flattened (`input.repository=...`). */
export function describeTarget(sources: ReadonlyArray<unknown>): string {
  const parts: string[] = [];
  const visit = (value: unknown, prefix: string, depth: number): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        if (depth < 1) visit(item, `${prefix}${key}.`, depth + 1);
        continue;
      }
      if (!TARGET_KEYS.has(key)) continue;
      const described = describeValue(item);
      if (described !== undefined) parts.push(`${prefix}${key}=${described}`);
    }
  };
  for (const source of sources) visit(source, '', 0);
  return parts.join(' ');
}

/** True for a REST method other than GET/HEAD/OPTIONS and for a GraphQL mutation; cheap, for hot paths. */
export function isMutation(context: ExecutionContext): boolean {
  if (context.getType<string>() === 'graphql') {
    return GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>().operation.operation === 'mutation';
  }
  return !SAFE_METHODS.has(context.switchToHttp().getRequest<FastifyRequest>().method);
}

/** What an audit entry says about a REST or GraphQL call. */
export function describeCall(context: ExecutionContext): CallDescription {
  if (context.getType<string>() === 'graphql') {
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    const ctx = gql.getContext<GraphQLContext>();
    const operation = info.operation.operation;
    return {
      mutation: operation === 'mutation',
      action: `${operation} ${info.fieldName}`,
      target: describeTarget([gql.getArgs()]),
      requestId: ctx.req?.id ?? null,
    };
  }
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return {
    mutation: !SAFE_METHODS.has(request.method),
    action: `${request.method} ${request.routeOptions?.url ?? request.url.split('?')[0]}`,
    target: describeTarget([request.params, request.query, request.body]),
    requestId: request.id,
  };
}
