import { Controller, Delete, Get, Headers, Inject, Optional, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DrydockError, ErrorCode } from '@drydock/core';
import { isTerminalEvent } from '@drydock/jobs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { viewerOf } from '../auth/requester';
import { DrydockMetrics } from '../metrics/drydock-metrics';
import { JobEventModel, JobModel } from './job.model';
import { JobEventsQuery, ListJobsQuery, MAX_SEQUENCE } from './jobs.dto';
import { JobsService } from './jobs.service';

/** Comments keep proxies from closing an idle stream while a long step runs. */
const HEARTBEAT_MS = 15_000;

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    @Optional() @Inject(DrydockMetrics) private readonly metrics: DrydockMetrics | null = null,
  ) {}

  /** Newest first; the next page's address is in `Link: <…>; rel="next"` (RFC 8288), its cursor alone in `X-Next-Cursor`. */
  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({
    type: [JobModel],
    headers: {
      Link: { description: 'the next page: `</v1/jobs?…&cursor=…>; rel="next"`; absent on the last page', schema: { type: 'string' } },
      'X-Next-Cursor': { description: "the next page's `cursor`; absent on the last page", schema: { type: 'string' } },
    },
  })
  @ApiOperation({ operationId: 'listJobs' })
  async list(
    @Query() query: ListJobsQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<JobModel[]> {
    const page = await this.jobs.page(query, viewerOf(principal));
    if (page.nextCursor) {
      reply.header('link', `<${nextPageUrl(request.url, page.nextCursor)}>; rel="next"`);
      reply.header('x-next-cursor', page.nextCursor);
    }
    return page.items;
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOkResponse({ type: JobModel })
  @ApiOperation({ operationId: 'getJob' })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobModel> {
    return this.jobs.get(id, viewerOf(principal));
  }

  @Delete(':id')
  @RequireRole('builder')
  @ApiOkResponse({ type: JobModel })
  @ApiOperation({ operationId: 'cancelJob' })
  cancel(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobModel> {
    return this.jobs.cancel(id, viewerOf(principal));
  }

  /**
   * Server-Sent Events: replays the job's events, then follows it live, and
   * ends after the terminal event. `Last-Event-ID` (or `?from=`) resumes.
   */
  @Get(':id/events')
  @RequireRole('viewer')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ type: JobEventModel, description: 'one `data:` line per event; `id:` is its sequence' })
  @ApiOperation({ operationId: 'jobEvents' })
  async events(
    @Param('id') id: string,
    @Query() query: JobEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const subscribedAt = Date.now();
    const from = query.from ?? (lastEventId !== undefined ? resumeAfter(lastEventId) : 1);
    const abort = new AbortController();
    // Checks the job exists (and may be seen) before the stream starts, so a 404 is still a problem+json.
    const events = await this.jobs.events(id, from, abort.signal, viewerOf(principal));

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    raw.write(': stream open\n\n');
    // A heartbeat is for an idle stream; one whose client is not reading needs no more bytes queued.
    const heartbeat = setInterval(() => raw.writableNeedDrain || raw.write(': ping\n\n'), HEARTBEAT_MS);
    request.raw.on('close', () => abort.abort());
    raw.on('close', () => abort.abort());
    try {
      for await (const event of events) {
        // Past the socket's buffer, wait for the client: the next event is not even read from Redis until then.
        if (!raw.write(`id: ${event.sequence}\nevent: ${event.kind.toLowerCase()}\ndata: ${JSON.stringify(event)}\n\n`)) {
          await drained(raw, abort.signal);
        }
        this.metrics?.eventDelivered('sse', event.at, subscribedAt);
        if (isTerminalEvent(event)) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) {
        const code = error instanceof DrydockError ? error.code : ErrorCode.INTERNAL;
        raw.write(`event: error\ndata: ${JSON.stringify({ code, message: (error as Error).message })}\n\n`);
      }
    } finally {
      clearInterval(heartbeat);
      abort.abort();
      raw.end();
    }
  }
}

/** This request's own path and query, with `cursor` set to the next page's: the filters carry over. */
function nextPageUrl(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl, 'http://drydock.invalid');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}

/** Resolves when `stream` can take more, or it closes, or `signal` aborts. */
function drained(stream: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted) return resolve();
    stream.on('drain', done);
    stream.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Plain decimal digits only, and a sequence a job can have: `1e3`, `-0`, `0x10` or 20 digits are not. */
function resumeAfter(lastEventId: string): number {
  const last = /^\d{1,16}$/.test(lastEventId) ? Number(lastEventId) : Number.NaN;
  if (!Number.isSafeInteger(last) || last >= MAX_SEQUENCE) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `Last-Event-ID must be a sequence number, not "${lastEventId.slice(0, 40)}"`);
  }
  return last + 1;
}
