import { DrydockError, type ErrorCode } from '@drydock/core';

/** The code a service call was refused with; fails the spec if it succeeded or threw something else. */
export async function refusalOf(work: Promise<unknown> | (() => unknown)): Promise<ErrorCode> {
  const error = await Promise.resolve()
    .then(() => (typeof work === 'function' ? work() : work))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (!(error instanceof DrydockError)) throw new Error(`expected a DrydockError, got ${error === undefined ? 'success' : String(error)}`);
  return error.code;
}
