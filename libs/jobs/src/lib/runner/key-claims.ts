import { DrydockError, ErrorCode } from '@drydock/core';
import { type JobRecord, isTerminal } from '../model';
import type { JobRecordStore } from '../record-store';
import { delay } from './timing';

/**
 * The keys an enqueue may claim before it creates a job: a client's
 * Idempotency-Key (answered with the same job, ended or not) and a dedup key
 * (identical work in flight shares one job).
 */
export class KeyClaims {
  constructor(private readonly records: JobRecordStore) {}

  /**
   * Claims `key` for job `id`, or returns the job that holds it. A holder
   * whose record never appears (its request died in between) is evicted, as
   * is an ended one when ended jobs may not be shared.
   */
  async claim(key: string, id: string, shareEnded: boolean): Promise<JobRecord | null> {
    for (let tries = 0; tries < 3; tries++) {
      const holder = await this.records.findOrRemember(key, id);
      if (holder === null) return null;
      const record = await this.awaitRecord(holder);
      if (record && (shareEnded || !isTerminal(record.state))) return record;
      await this.records.forget(key, holder);
    }
    throw new DrydockError(ErrorCode.CONFLICT, 'another request with the same key is being accepted; retry');
  }

  /** The holder of a key may still be creating its record: give it a moment. */
  private async awaitRecord(id: string): Promise<JobRecord | null> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const record = await this.records.get(id);
      if (record || Date.now() >= deadline) return record;
      await delay(25);
    }
  }
}
