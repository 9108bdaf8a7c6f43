import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/decorators';
import { AuditEntry, AuditQuery } from './audit.model';
import { AuditLog } from './audit.service';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  /** Newest first. Admins only: the trail names every team's tokens. */
  @Get()
  @RequireRole('admin')
  @ApiOkResponse({ type: [AuditEntry] })
  @ApiOperation({ operationId: 'listAuditEntries' })
  list(@Query() query: AuditQuery): Promise<AuditEntry[]> {
    return this.audit.list(query.limit ?? 100, query.before);
  }
}
