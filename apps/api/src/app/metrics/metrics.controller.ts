import { Controller, Get, Header, Inject, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/decorators';
import { AdminTokenGuard } from './admin-token.guard';
import { DrydockMetrics } from './drydock-metrics';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Prometheus' text format, for an admin token: on the API the global guard
 * asks for it (401 without a token, 403 for another role, problem+json).
 */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(DrydockMetrics) private readonly metrics: DrydockMetrics) {}

  @Get()
  @RequireRole('admin')
  @Header('content-type', CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  @ApiProduces(CONTENT_TYPE)
  @ApiOkResponse({ description: 'Prometheus text exposition format', schema: { type: 'string' } })
  @ApiOperation({ operationId: 'scrapeMetrics' })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}

/** A worker has no global guard (it answers health alone): its /metrics asks for the admin token itself. */
@Controller('metrics')
@UseGuards(AdminTokenGuard)
export class WorkerMetricsController extends MetricsController {}
