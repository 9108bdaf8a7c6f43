import { DrydockError, ErrorCode } from '@drydock/core';

/** An `Idempotency-Key` header: 1..200 visible characters, or absent. */
export function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'Idempotency-Key must be 1 to 200 visible ASCII characters');
  }
  return value;
}
