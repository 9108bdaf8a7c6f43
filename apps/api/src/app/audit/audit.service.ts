import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import type { Principal } from '../auth/principal';
import type { AuditEntry } from './audit.model';

export interface AuditRecord {
  principal: Pick<Principal, 'name' | 'team' | 'role'>;
  /** `POST /v1/images/:ref/tags`, `mutation tagImage`, `job PUSH`, ... */
  action: string;
  /** What was acted on, as short `key=value` pairs; never a secret. */
  target: string;
  /** `ok` or an ErrorCode. */
  outcome: string;
  requestId?: string | null;
}

const FIELDS = ['at', 'tokenName', 'team', 'role', 'action', 'target', 'outcome', 'requestId'] as const;

/**
 * The audit trail: a Redis stream under the deployment's prefix, trimmed by
 * age (DRYDOCK_AUDIT_RETENTION_SECONDS) and by length (DRYDOCK_AUDIT_MAX_ENTRIES).
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  get key(): string {
    return `${this.config.keyPrefix}:audit`;
  }

  /**
   * Appends one entry. Best effort by design: the action it records has
   * already happened (or failed), and a Redis outage must not turn a done
   * mutation into an error; a lost entry is logged instead.
   */
  async record(record: AuditRecord): Promise<void> {
    const now = Date.now();
    const values: Record<(typeof FIELDS)[number], string> = {
      at: new Date(now).toISOString(),
      tokenName: record.principal.name,
      team: record.principal.team,
      role: record.principal.role,
      action: record.action.slice(0, 200),
      target: record.target.slice(0, 1000),
      outcome: record.outcome,
      requestId: record.requestId ?? '',
    };
    const oldest = now - this.config.auditRetentionSeconds * 1000;
    try {
      await this.redis
        .multi()
        .xadd(this.key, 'MAXLEN', '~', String(this.config.auditMaxEntries), '*', ...FIELDS.flatMap((field) => [field, values[field]]))
        .xtrim(this.key, 'MINID', '~', `${oldest}-0`)
        .exec();
    } catch (error) {
      this.logger.warn({ action: values.action, tokenName: values.tokenName, outcome: values.outcome }, `audit entry lost: ${(error as Error).message}`);
    }
  }

  /** Newest first; `before` pages back from an entry id. */
  async list(limit = 100, before?: string): Promise<AuditEntry[]> {
    const end = before ? `(${before}` : '+';
    const rows = await this.redis.xrevrange(this.key, end, '-', 'COUNT', limit);
    return rows.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
      return {
        id,
        at: fields['at'] ?? '',
        tokenName: fields['tokenName'] ?? '',
        team: fields['team'] ?? '',
        role: fields['role'] ?? '',
        action: fields['action'] ?? '',
        target: fields['target'] ?? '',
        outcome: fields['outcome'] ?? '',
        requestId: fields['requestId'] || null,
      };
    });
  }
}
