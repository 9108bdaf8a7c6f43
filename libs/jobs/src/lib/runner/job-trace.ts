import { type Attributes, type Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { JobDataOf } from '../contract';
import type { JobType } from '../model';

/** The scope job spans are recorded under. */
export const JOBS_TRACER = '@drydock/jobs';

/**
 * The W3C trace context (https://www.w3.org/TR/trace-context/) of the span
 * that queued a job, carried in the job so that its run continues the trace.
 */
export interface JobTrace {
  traceparent: string;
  tracestate?: string;
}

/**
 * What a job's BullMQ data holds: the contract's data, and the trace of the
 * request that queued it. `trace` is absent when tracing is off, and in jobs
 * queued before there was one.
 */
export type QueuedJobData<T extends JobType = JobType> = JobDataOf<T> & { trace?: JobTrace };

// W3C whatever OTEL_PROPAGATORS says: the job's field is W3C's shape, and both ends are Drydock.
const w3c = new W3CTraceContextPropagator();
// Bounds on what a job carries: Redis holds it, and another process parses it.
const MAX_TRACEPARENT = 55;
const MAX_TRACESTATE = 512;

const tracer = () => trace.getTracer(JOBS_TRACER);

/** The active span's context, to queue with a job; undefined when there is no sampled span (tracing off). */
export function currentJobTrace(): JobTrace | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, { set: (target, key, value) => (target[key] = value) });
  const { traceparent, tracestate } = carrier;
  if (!traceparent) return undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Splits what BullMQ holds into the handler's data and the trace it came with. */
export function splitJobTrace<T extends JobType>(queued: QueuedJobData<T>): { data: JobDataOf<T>; trace: JobTrace | undefined } {
  const { trace: carried, ...data } = queued as JobDataOf<T> & { trace?: unknown };
  return { data: data as JobDataOf<T>, trace: validJobTrace(carried) };
}

/** Job data came through Redis: whatever `trace` holds that is not a bounded pair of strings is ignored. */
function validJobTrace(value: unknown): JobTrace | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || traceparent.length > MAX_TRACEPARENT) return undefined;
  if (typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE) return { traceparent, tracestate };
  return { traceparent };
}

/**
 * Runs `work` inside a new span, ended (ERROR when `work` throws) when it
 * settles. With `parent`, the span continues that trace (a malformed one
 * starts a new trace: the W3C propagator refuses it); without, it continues
 * the active context.
 */
export async function inJobSpan<R>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: (span: Span) => Promise<R>,
  parent?: JobTrace,
): Promise<R> {
  const base = parent ? w3c.extract(context.active(), parent, { get: (c, key) => c[key as keyof JobTrace], keys: (c) => Object.keys(c) }) : context.active();
  return tracer().startActiveSpan(name, { kind, attributes }, base, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Attributes of a job on its spans: which job, of which type, team and engine. No request data: it may name secrets. */
export function jobAttributes(job: { id: string; type: JobType; engine: string; team: string | null }): Attributes {
  return {
    'messaging.system': 'bullmq',
    'drydock.job.id': job.id,
    'drydock.job.type': job.type,
    'drydock.engine.name': job.engine,
    ...(job.team === null ? {} : { 'drydock.team': job.team }),
  };
}
