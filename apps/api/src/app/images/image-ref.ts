import { DrydockError, ErrorCode, isImageId, parseReference } from '@drydock/core';

/** `sha256:` and 12..64 lowercase hex: a full id or an id prefix, as the engine looks ids up. */
const ID_WITH_ALGORITHM = /^sha256:[a-f0-9]{12,64}$/;

/**
 * The name to hand the engine for a user's reference or id. References are
 * parsed (and rejected with INVALID_REFERENCE) before the engine is called;
 * a digest wins over a tag, as the engine resolves `repo:tag@digest` by digest.
 *
 * `sha256:...` is always meant as an image id: the reference grammar would
 * read `sha256:zzz` as the Docker Hub image `library/sha256` with tag `zzz`,
 * and answer "not found" where the caller made a typo in an id.
 */
export function engineName(input: string): string {
  if (isImageId(input) || ID_WITH_ALGORITHM.test(input)) return input;
  if (input.startsWith('sha256:')) {
    throw new DrydockError(
      ErrorCode.INVALID_REFERENCE,
      `invalid image id ${JSON.stringify(input.length > 300 ? `${input.slice(0, 300)}...` : input)}: ` +
        'an id is "sha256:" followed by 12 to 64 lowercase hex digits',
    );
  }
  const ref = parseReference(input);
  return ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.effectiveTag}`;
}
