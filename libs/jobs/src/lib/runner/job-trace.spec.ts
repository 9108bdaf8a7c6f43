import { type SpanContext, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { waitFor } from '../../testing/redis';
import { closeHarnesses, harness, pullData } from '../../testing/runner-harness';
import { JobState, JobType } from '../model';
import { splitJobTrace } from './job-trace';

jest.setTimeout(30_000);

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterEach(async () => {
  await closeHarnesses();
  exporter.reset();
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** The finished span of that name, once there is one: a job's span ends a moment after its record does. */
function finished(name: string): Promise<ReadableSpan> {
  return waitFor(`span ${name}`, () => exporter.getFinishedSpans().find((span) => span.name === name));
}

describe('trace context carried in a job', () => {
  it("continues the enqueuing request's trace in the worker: request, then enqueue, then the job's span, where the handler runs", async () => {
    const h = harness();
    let seen: { span: SpanContext | undefined; data: unknown } | undefined;
    await h.startWorker(async (ctx) => {
      seen = { span: trace.getActiveSpan()?.spanContext(), data: ctx.data };
      return {};
    });
    const request = trace.getTracer('test').startSpan('POST /v1/images/pull', { kind: SpanKind.SERVER });
    const queued = await context.with(trace.setSpan(context.active(), request), () =>
      h.queue.enqueue(JobType.PULL, pullData('busybox:1'), { team: 'team-a' }),
    );
    request.end();

    const consumer = await finished('job pull');
    const producer = await finished('enqueue pull');
    const traceId = request.spanContext().traceId;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(traceId);
    expect(producer.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.parentSpanContext?.isRemote).toBe(true);
    expect(consumer.attributes).toEqual({
      'messaging.system': 'bullmq',
      'drydock.job.id': queued.id,
      'drydock.job.type': 'PULL',
      'drydock.engine.name': 'default',
      'drydock.team': 'team-a',
      'drydock.job.attempt': 1,
    });
    // Engine calls the handler makes are children of the job's span; the handler never sees the carrier.
    expect(seen?.span?.spanId).toBe(consumer.spanContext().spanId);
    expect(seen?.data).toEqual(pullData('busybox:1'));
    expect((await h.bullJob(queued.id)).data.trace.traceparent).toBe(`00-${traceId}-${producer.spanContext().spanId}-01`);
  });

  it('runs a job queued without a trace (tracing off, or queued before there was one) in a trace of its own', async () => {
    const h = harness();
    const queued = await context.with(suppressTracing(context.active()), () => h.queue.enqueue(JobType.PULL, pullData('busybox:1')));
    expect((await h.bullJob(queued.id)).data).toEqual(pullData('busybox:1'));
    await h.startWorker(async () => ({}));

    const consumer = await finished('job pull');
    expect(consumer.parentSpanContext).toBeUndefined();
    expect((await h.records.require(queued.id)).state).toBe(JobState.SUCCEEDED);
  });

  it('ignores a malformed trace in the job data: the job still runs, in a trace of its own', async () => {
    const h = harness();
    const queued = await h.queue.enqueue(JobType.PULL, pullData('busybox:1'));
    await (await h.bullJob(queued.id)).updateData({ ...pullData('busybox:1'), trace: { traceparent: '00-zz-not-a-trace' } } as never);
    let data: unknown;
    await h.startWorker(async (ctx) => {
      data = ctx.data;
      return {};
    });

    const consumer = await finished('job pull');
    expect(consumer.parentSpanContext).toBeUndefined();
    expect(consumer.status.code).toBe(SpanStatusCode.UNSET);
    expect(data).toEqual(pullData('busybox:1'));
    expect((await h.records.require(queued.id)).state).toBe(JobState.SUCCEEDED);
  });

  it("marks the job's span failed when its run fails", async () => {
    const h = harness();
    await h.startWorker(async () => {
      throw new Error('no such image');
    });
    await h.queue.enqueue(JobType.PULL, pullData('busybox:1'));
    const consumer = await finished('job pull');
    expect(consumer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no such image' });
  });
});

describe('splitJobTrace', () => {
  it('keeps only a bounded pair of strings from what Redis handed back', () => {
    const data = pullData('busybox:1');
    expect(splitJobTrace({ ...data, trace: { traceparent: 'x'.repeat(56) } })).toEqual({ data, trace: undefined });
    expect(splitJobTrace({ ...data, trace: 'oops' } as never)).toEqual({ data, trace: undefined });
    expect(splitJobTrace({ ...data, trace: { traceparent: 'p', tracestate: 's'.repeat(513) } })).toEqual({ data, trace: { traceparent: 'p' } });
    expect(splitJobTrace({ ...data, trace: { traceparent: 'p', tracestate: 'k=v' } })).toEqual({ data, trace: { traceparent: 'p', tracestate: 'k=v' } });
    expect(splitJobTrace(data)).toEqual({ data, trace: undefined });
  });
});
