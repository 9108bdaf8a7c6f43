import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditModule } from './audit.module';
import { AuditResolver } from './audit.resolver';

/** Reading the trail (REST, GraphQL) and recording every mutation that passed the guards. */
@Module({
  imports: [AuditModule],
  controllers: [AuditController],
  providers: [AuditResolver, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
})
export class AuditApiModule {}
