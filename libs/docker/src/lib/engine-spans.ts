import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { engineOperation } from './engine-observer';

/** The scope engine spans are recorded under. */
export const ENGINE_TRACER = '@drydock/docker';

type Dial = (options: { method?: string; path?: string }, callback: (error: unknown, result: unknown) => void) => unknown;

/**
 * Gives every request to the engine a span `engine <operation>` (CLIENT),
 * child of the active span, ended when the engine answers (for a stream, once
 * its headers came, as the request metrics time it). A request made outside
 * any span (the catalogue following events, health pings) gets none: it
 * belongs to no request or job, and would only be a trace of its own. Without
 * an OpenTelemetry SDK there is never an active span, so this costs one lookup.
 */
export function traceEngineRequests(modem: { dial: Dial }, engine: string): void {
  const dial = modem.dial.bind(modem);
  const tracer = trace.getTracer(ENGINE_TRACER);
  modem.dial = (options, callback) => {
    const parent = context.active();
    if (!trace.getSpan(parent)) return dial(options, callback);
    // Before dial: it prefixes the API version to options.path. The operation, never the path: paths hold image references.
    const operation = engineOperation(options.method ?? 'GET', options.path ?? '');
    const span = tracer.startSpan(
      `engine ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'drydock.engine.name': engine, 'drydock.engine.operation': operation } },
      parent,
    );
    // The span is active for the dial, so the HTTP client span of the request itself nests under it.
    return context.with(trace.setSpan(parent, span), () =>
      dial(options, (error, result) => {
        if (error) {
          const status = (error as { statusCode?: unknown }).statusCode;
          if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        }
        span.end();
        callback(error, result);
      }),
    );
  };
}
