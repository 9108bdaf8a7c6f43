import { Args, Query, Resolver } from '@nestjs/graphql';
import { RequireRole } from '../auth/decorators';
import { AuditEntry, AuditQuery } from './audit.model';
import { AuditLog } from './audit.service';

@Resolver(() => AuditEntry)
export class AuditResolver {
  constructor(private readonly audit: AuditLog) {}

  @Query(() => [AuditEntry], { description: 'newest first; admins only' })
  @RequireRole('admin')
  auditLog(@Args() args: AuditQuery): Promise<AuditEntry[]> {
    return this.audit.list(args.limit ?? 100, args.before);
  }
}
