import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { traceEngineRequests } from './engine-spans';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

type Callback = (error: unknown, result: unknown) => void;

/** A modem whose requests answer on the next turn, telling what was active when they were made. */
function fakeModem(answer: { error?: unknown } = {}) {
  const activeAtDial: Array<string | undefined> = [];
  const modem = {
    dial: (_options: object, callback: Callback) => {
      activeAtDial.push(trace.getActiveSpan()?.spanContext().spanId);
      setImmediate(() => callback(answer.error ?? null, 'ok'));
    },
  };
  const request = (method: string, path: string) =>
    new Promise<{ error: unknown; result: unknown }>((resolve) => modem.dial({ method, path }, (error, result) => resolve({ error, result })));
  return { modem, request, activeAtDial };
}

describe('traceEngineRequests', () => {
  it('gives a request made inside a span its own child span named by the operation, never by the image it names', async () => {
    const { modem, request, activeAtDial } = fakeModem();
    traceEngineRequests(modem, 'builder-1');
    const parent = trace.getTracer('test').startSpan('job build');
    const answer = await context.with(trace.setSpan(context.active(), parent), () => request('GET', '/v1.45/images/team-a/secret-app:1/json'));
    parent.end();

    expect(answer.result).toBe('ok');
    const [span] = exporter.getFinishedSpans().filter((s) => s.name !== 'job build');
    expect(span?.name).toBe('engine image.inspect');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(span?.attributes).toEqual({ 'drydock.engine.name': 'builder-1', 'drydock.engine.operation': 'image.inspect' });
    // The request runs with the engine span active: the HTTP client span under it nests there.
    expect(activeAtDial).toEqual([span?.spanContext().spanId]);
  });

  it('records no span for a request made outside any span', async () => {
    const { modem, request } = fakeModem();
    traceEngineRequests(modem, 'default');
    expect((await request('GET', '/events')).result).toBe('ok');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('marks the span failed with the status the engine answered', async () => {
    const refusal = Object.assign(new Error('(HTTP code 404) no such image'), { statusCode: 404 });
    const { modem, request } = fakeModem({ error: refusal });
    traceEngineRequests(modem, 'default');
    const parent = trace.getTracer('test').startSpan('request');
    const answer = await context.with(trace.setSpan(context.active(), parent), () => request('DELETE', '/images/nope'));
    expect(answer.error).toBe(refusal);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('engine image.remove');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: '(HTTP code 404) no such image' });
    expect(span?.attributes['http.response.status_code']).toBe(404);
  });
});
