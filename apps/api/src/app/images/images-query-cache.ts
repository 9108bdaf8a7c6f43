import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { HeldImage, MergedCatalog } from '../engine/merged-catalog';
import type { FormattedExecutionResult } from 'graphql';
import type { GraphQLContext } from '../auth/decorators';

/** Distinct query texts kept per catalogue snapshot. */
const MAX_ENTRIES = 64;

/**
 * Answers a repeated `images` query from the result computed for the same
 * catalogue snapshot, without executing it again. Executing ~1,400 fields is
 * what bounds the GraphQL list (bench/images-list), while the list itself
 * only changes when an engine says so: the snapshot identity is the key, so
 * an invalidated catalogue can never serve an old answer. Only authenticated
 * (every role may list images), error-free operations whose single root field
 * is `images` are cached.
 */
export function imagesQueryCache(catalog: Pick<MergedCatalog, 'all'>): ApolloServerPlugin<GraphQLContext> {
  const results = new WeakMap<HeldImage[], Map<string, FormattedExecutionResult>>();
  return {
    async requestDidStart() {
      let snapshot: HeldImage[] | undefined;
      let key: string | undefined;
      return {
        async responseForOperation({ operation, request, contextValue }) {
          const [root, ...others] = operation.selectionSet.selections;
          if (!contextValue.principal || operation.operation !== 'query' || others.length) return null;
          if (root?.kind !== 'Field' || root.name.value !== 'images') return null;
          // The merged snapshot changes whenever any engine's does, whichever engine the query names.
          // No engine answering: the resolver gives the refusal.
          snapshot = await catalog.all().catch(() => undefined);
          if (!snapshot) return null;
          key = `${request.operationName ?? ''}\n${JSON.stringify(request.variables ?? {})}\n${request.query ?? ''}`;
          const hit = results.get(snapshot)?.get(key);
          return hit ? { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: hit } } : null;
        },
        async willSendResponse({ response }) {
          if (!snapshot || key === undefined || response.body.kind !== 'single' || response.body.singleResult.errors) return;
          let entries = results.get(snapshot);
          if (!entries) results.set(snapshot, (entries = new Map()));
          if (entries.size < MAX_ENTRIES) entries.set(key, response.body.singleResult);
        },
      };
    },
  };
}
