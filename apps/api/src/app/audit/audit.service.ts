import { redisKeyBase, type RedisClient } from '@drydock/jobs';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import type { Principal } from '../auth/principal';
import type { AuditEntry } from './audit.model';

export interface AuditRecord {
  /** Who: a token, or for a job's end its owner (role empty: not known then). */
  principal: Pick<Principal, 'name' | 'team'> & { role: Principal['role'] | '' };
  /** `POST /v1/images/:ref/tags`, `mutation tagImage`, `job PUSH`, ... */
  action: string;
  /** What was acted on, as short `key=value` pairs; never a secret. */
  target: string;
  /** `ok` or an ErrorCode. */
  outcome: string;
  requestId?: string | null;
}

/**
 * How long a request waits for its entry. Redis answers in well under a
 * millisecond; a Redis that hangs must not hang every mutation with it, so past
 * this the answer goes out and the write stays pending (flushed at shutdown).
 */
export const AUDIT_WAIT_MS = 1_000;
/** At shutdown, how long pending entries get before the connections close. */
const FLUSH_MS = 3_000;

const FIELDS = ['at', 'tokenName', 'team', 'role', 'action', 'target', 'outcome', 'requestId'] as const;

/**
 * The audit trail: a Redis stream under the deployment's prefix, trimmed by
 * age (DRYDOCK_AUDIT_RETENTION_SECONDS) and by length (DRYDOCK_AUDIT_MAX_ENTRIES).
 */
@Injectable()
export class AuditLog implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditLog.name);
  /** Writes not yet answered by Redis; shutdown waits for them before any connection closes. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  get key(): string {
    return `${redisKeyBase(this.config.keyPrefix)}:audit`;
  }

  /**
   * Appends one entry and resolves once Redis has it (or after AUDIT_WAIT_MS):
   * callers await it before answering, so an answered mutation has its entry
   * even if the process dies right after. Never rejects: the action it records
   * has already happened (or failed), and a Redis outage must not turn a done
   * mutation into an error; a lost entry is logged instead.
   */
  record(record: AuditRecord): Promise<void> {
    const write = this.write(record);
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, AUDIT_WAIT_MS);
      timer.unref();
    });
    return Promise.race([write, slow]).finally(() => clearTimeout(timer));
  }

  /** SIGTERM: entries still on their way are written before Redis connections close (hooks of that phase). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.pending),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FLUSH_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private async write(record: AuditRecord): Promise<void> {
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
