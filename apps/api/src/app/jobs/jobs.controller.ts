import { Controller, Delete, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { DrydockError, ErrorCode } from '@drydock/docker';
import { isTerminalEvent } from '@drydock/jobs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, RequireRole } from '../auth/decorators';
import type { Principal } from '../auth/principal';
import { viewerOf } from '../auth/requester';
import { JobEventModel, JobModel } from './job.model';
import { JobEventsQuery, ListJobsQuery } from './jobs.dto';
import { JobsService } from './jobs.service';

/** Comments keep proxies from closing an idle stream while a long step runs. */
const HEARTBEAT_MS = 15_000;

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [JobModel] })
  list(@Query() query: ListJobsQuery, @CurrentPrincipal() principal: Principal): Promise<JobModel[]> {
    return this.jobs.list(query, viewerOf(principal));
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOkResponse({ type: JobModel })
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<JobModel> {
    return this.jobs.get(id, viewerOf(principal));
  }

  @Delete(':id')
  @RequireRole('builder')
  @ApiOkResponse({ type: JobModel })
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
  async events(
    @Param('id') id: string,
    @Query() query: JobEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
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
    const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
    request.raw.on('close', () => abort.abort());
    try {
      for await (const event of events) {
        raw.write(`id: ${event.sequence}\nevent: ${event.kind.toLowerCase()}\ndata: ${JSON.stringify(event)}\n\n`);
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

function resumeAfter(lastEventId: string): number {
  const last = Number(lastEventId);
  if (!Number.isInteger(last) || last < 0) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `Last-Event-ID must be a sequence number, not "${lastEventId.slice(0, 40)}"`);
  }
  return last + 1;
}
