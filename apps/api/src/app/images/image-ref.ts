import { isImageId, parseReference } from '@drydock/docker';

/**
 * The name to hand the engine for a user's reference or id. References are
 * parsed (and rejected with INVALID_REFERENCE) before the engine is called;
 * a digest wins over a tag, as the engine resolves `repo:tag@digest` by digest.
 */
export function engineName(input: string): string {
  if (isImageId(input)) return input;
  const ref = parseReference(input);
  return ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.effectiveTag}`;
}
