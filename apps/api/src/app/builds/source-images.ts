import { DrydockError, ErrorCode, isDrydockError } from '@drydock/core';
import { type DockerEngine } from '@drydock/docker';
import type { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';

/**
 * The rule for the images a Dockerfile reads (FROM, COPY --from, RUN
 * --mount=from): fetching one creates a local name, so — as for
 * `POST /v1/images/pull` — it must be in the caller's namespaces. An image
 * outside them may only be read as it already is here (as a run may use any
 * local image), which rules out `pull`, and the engine pulls an absent one.
 * Answers the images that must stay local: the worker checks them again just
 * before the build, as one could be removed while the job waits.
 */
export async function checkSourceImages(
  principal: Principal,
  images: readonly string[],
  pull: boolean,
  policy: NamespacePolicy,
  engine: DockerEngine,
): Promise<string[]> {
  const localOnly: string[] = [];
  for (const image of images) {
    if (policy.canWrite(principal, image)) continue;
    if (!pull && (await isLocal(engine, image))) {
      localOnly.push(image);
      continue;
    }
    const why = pull ? 'pull would fetch it' : 'it is not here, so the build would pull it';
    throw new DrydockError(
      ErrorCode.FORBIDDEN,
      `the Dockerfile reads ${image}, outside the namespaces of token "${principal.name}" (team ${principal.team}), and ${why}`,
    );
  }
  return localOnly;
}

export async function isLocal(engine: DockerEngine, image: string): Promise<boolean> {
  try {
    await engine.images.inspect(image);
    return true;
  } catch (error) {
    if (isDrydockError(error) && error.code === ErrorCode.IMAGE_NOT_FOUND) return false;
    throw error;
  }
}
