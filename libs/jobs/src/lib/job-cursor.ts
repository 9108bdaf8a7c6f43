import { DrydockError, ErrorCode } from '@drydock/core';

/** A place in the jobs index: the job's creation score (ms) and its id, which breaks ties. */
export interface JobPosition {
  createdAtMs: number;
  id: string;
}

/** Job ids are UUIDs from the queue; specs name theirs freely, so anything id-shaped is a place. */
const POSITION = /^(\d{1,16}):([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,240}$/;
/** Year 275760: the last instant a JavaScript Date can hold. */
const MAX_MS = 8.64e15;

/**
 * Opaque to clients so the index's layout can change; what it carries is only
 * a position, never a filter or a team, so a forged one can at worst start a
 * page somewhere else in what the caller may already see.
 */
export function encodeJobCursor(position: JobPosition): string {
  return Buffer.from(`${position.createdAtMs}:${position.id}`, 'utf8').toString('base64url');
}

export function decodeJobCursor(cursor: unknown): JobPosition {
  const invalid = () => new DrydockError(ErrorCode.VALIDATION_FAILED, 'cursor is not one this API handed out');
  if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Node's decoder skips what it cannot read; only a cursor that encodes back to itself is one of ours.
  const match = POSITION.exec(text);
  if (!match || Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw invalid();
  const createdAtMs = Number(match[1]);
  if (!Number.isSafeInteger(createdAtMs) || createdAtMs > MAX_MS) throw invalid();
  return { createdAtMs, id: match[2] as string };
}
