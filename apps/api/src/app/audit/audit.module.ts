import { Module } from '@nestjs/common';
import { AuditLog } from './audit.service';

/** The audit trail itself: the API records requests in it, the workers each job's end. */
@Module({
  providers: [AuditLog],
  exports: [AuditLog],
})
export class AuditModule {}
