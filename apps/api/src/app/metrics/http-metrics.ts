import type { FastifyInstance } from 'fastify';
import type { DrydockMetrics } from './drydock-metrics';

/** The label of a request no route matched: its URL would make a series per probe a scanner sends. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every HTTP request the app answers, labelled with the route's
 * pattern (`/v1/jobs/:id`), never the URL, so the series stay as few as the
 * routes. Fastify's own clock: from the request's arrival to the response's
 * end. A hijacked reply (the SSE stream) ends outside Fastify and is not timed.
 */
export function observeHttpRequests(fastify: FastifyInstance, metrics: DrydockMetrics): void {
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { route: request.routeOptions.url ?? UNMATCHED_ROUTE, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
