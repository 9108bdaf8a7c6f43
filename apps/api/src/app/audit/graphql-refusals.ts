import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { getArgumentValues, Kind, type FieldNode, type GraphQLError, type SelectionSetNode } from 'graphql';
import type { GraphQLContext } from '../auth/decorators';
import type { AuditLog } from './audit.service';
import { describeTarget } from './describe-call';

/** Entries one refused operation may add: aliases can name a field hundreds of times. */
export const MAX_REFUSED_FIELDS = 20;

type Context = GraphQLRequestContext<GraphQLContext>;

/** The top-level fields of the operation, through inline fragments and fragment spreads (each fragment once). */
function rootFields(context: Context): FieldNode[] {
  const fields: FieldNode[] = [];
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (fields.length >= MAX_REFUSED_FIELDS) return;
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = context.document?.definitions.find(
          (definition) => definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value,
        );
        if (fragment?.kind === Kind.FRAGMENT_DEFINITION) visit(fragment.selectionSet);
      }
    }
  };
  if (context.operation) visit(context.operation.selectionSet);
  return fields;
}

function argumentsOf(context: Context, field: FieldNode): Record<string, unknown> {
  const definition = context.schema.getMutationType()?.getFields()[field.name.value];
  if (!definition) return {};
  try {
    return getArgumentValues(definition, field, context.request.variables ?? {});
  } catch {
    return {};
  }
}

/**
 * Records a mutation refused over HTTP before any resolver ran: the plugins'
 * per-operation checks (the mutation rate limit) answer for the whole
 * operation, so neither a guard nor the AuditInterceptor sees it. One entry per
 * top-level field, identical ones once, at most MAX_REFUSED_FIELDS; the
 * answer waits for them (Apollo awaits didEncounterErrors before sending).
 */
export function auditGraphqlRefusals(audit: AuditLog): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors(context) {
          const principal = context.contextValue.principal;
          if (!principal || context.operation?.operation !== 'mutation') return;
          // Errors with a path come from resolvers, which the guards and the interceptor record.
          const refusal = context.errors.find((error: GraphQLError) => error.path === undefined);
          if (!refusal) return;
          const outcome = String(refusal.extensions?.['code'] ?? 'INTERNAL');
          const entries = new Map<string, string>();
          for (const field of rootFields(context)) {
            const action = `mutation ${field.name.value}`;
            const target = describeTarget([argumentsOf(context, field)]);
            entries.set(`${action}\n${target}`, target);
          }
          const requestId = context.contextValue.req?.id ?? null;
          await Promise.all(
            [...entries].map(([key, target]) =>
              audit.record({ principal, action: key.slice(0, key.indexOf('\n')), target, outcome, requestId }),
            ),
          );
        },
      };
    },
  };
}
