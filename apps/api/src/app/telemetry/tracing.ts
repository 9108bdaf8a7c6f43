import { tracesConfigOf, type TracesConfig } from '../config/traces';

/** Probes and scrapes: frequent, alike, and no part of any build's story. */
const UNTRACED_PATH = /^\/(health|metrics)(\/|\?|$)/;

let running: { shutdown(): Promise<void> } | undefined;

/**
 * Starts the OpenTelemetry SDK when the OTEL_* variables ask for traces
 * (see tracesConfigOf), before the application's modules are loaded: the
 * instrumentations patch http, fastify, graphql and ioredis as they are
 * required. Off, nothing of the SDK is even loaded, and `@opentelemetry/api`
 * in the libraries stays its no-op. The SDK reads its own settings (exporter,
 * endpoint, headers, sampler) from process.env.
 */
export async function startTracing(env: Record<string, string | undefined> = process.env): Promise<TracesConfig> {
  const config = tracesConfigOf(env);
  if (!config.enabled || running) return config;
  const [{ NodeSDK }, { HttpInstrumentation }, { GraphQLInstrumentation }, { IORedisInstrumentation }, { FastifyOtelInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-graphql'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@fastify/otel'),
    ]);
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    // Drydock's metrics are prom-client's (/metrics) and its logs pino's: the SDK exports traces alone.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATH.test(request.url ?? ''),
        // Outgoing requests are webhook deliveries (whose URLs may hold the receiver's secret) and the engine's
        // socket (its own `engine` spans say more); neither gets a span, nor a traceparent header.
        disableOutgoingRequestInstrumentation: true,
      }),
      // Names the HTTP span by its route (`POST /v1/builds`); one span for Fastify's request, none per hook.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: ({ url }) => UNTRACED_PATH.test(url),
      }),
      // Variable values never reach the spans (allowValues stays false): they may be registry passwords.
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      // Only within a request or a job (BullMQ's polling would be a trace a second), and the command alone: arguments hold job data.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  running = sdk;
  return config;
}

/** Ends and exports the spans still held (the batch not yet sent); for the process's shutdown. */
export async function stopTracing(): Promise<void> {
  const sdk = running;
  running = undefined;
  await sdk?.shutdown();
}
