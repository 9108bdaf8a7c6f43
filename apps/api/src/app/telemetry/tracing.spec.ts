import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { startTracing, stopTracing } from './tracing';

afterEach(async () => {
  await stopTracing();
  trace.disable();
});

/** What the global provider hands out: the API's own no-op until an SDK registers one. */
function delegate(): object {
  return (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
}

describe('startTracing', () => {
  it('starts no SDK when no OTEL variable asks for traces: spans stay non-recording no-ops', async () => {
    const config = await startTracing({});
    expect(config.enabled).toBe(false);
    expect(delegate().constructor.name).toBe('NoopTracerProvider');
    const span = trace.getTracer('test').startSpan('anything');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
  });

  it('starts no SDK when OTEL_SDK_DISABLED is true, though an endpoint is named', async () => {
    expect((await startTracing({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).enabled).toBe(false);
    expect(trace.getTracer('test').startSpan('anything').isRecording()).toBe(false);
  });

  it("starts the SDK when an endpoint is named, its spans recording under the role's service name", async () => {
    const config = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', DRYDOCK_ROLE: 'worker' });
    expect(config).toEqual({ enabled: true, serviceName: 'drydock-worker', exporters: ['otlp'] });
    // Left unended: nothing is exported to the closed port.
    const span = trace.getTracer('test').startSpan('job build');
    expect(span.isRecording()).toBe(true);
    expect((span as unknown as { resource: { attributes: Record<string, unknown> } }).resource.attributes['service.name']).toBe('drydock-worker');
  });

  it('refuses OTEL values the SDK would ignore, before starting anything', async () => {
    await expect(startTracing({ OTEL_TRACES_EXPORTER: 'jaeger' })).rejects.toThrow('"jaeger" is not one of');
    expect(delegate().constructor.name).toBe('NoopTracerProvider');
  });
});
