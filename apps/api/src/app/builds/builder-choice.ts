import { DrydockError, ErrorCode, parseReference } from '@drydock/core';
import { Builder, type DockerEngine } from '@drydock/docker';
import type { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';

/** `RUN --mount=type=secret,id=<id>`: what a secret may be called. */
export const SECRET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MAX_BUILD_SECRETS = 32;
export const MAX_CACHE_FROM = 16;

/** What a caller asked of the builder; the service resolves it before anything is spooled. */
export interface BuilderRequest {
  builder?: Builder;
  secrets?: string[];
  cacheFrom?: string[];
}

export interface BuilderChoice {
  builder: Builder;
  secrets?: string[];
  cacheFrom?: string[];
}

export async function offeredBuilders(engine: DockerEngine): Promise<Builder[]> {
  return (await engine.system.info()).builders;
}

function refuse(message: string): never {
  throw new DrydockError(ErrorCode.VALIDATION_FAILED, message);
}

function checkSecretIds(ids: readonly string[]): void {
  if (ids.length > MAX_BUILD_SECRETS) refuse(`secrets: at most ${MAX_BUILD_SECRETS}`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string' || !SECRET_ID.test(id)) refuse(`secrets: "${String(id).slice(0, 64)}" is not a secret id (${SECRET_ID.source})`);
    if (seen.has(id)) refuse(`secrets: "${id}" is named twice`);
    seen.add(id);
  }
}

/**
 * A cache source is always fetched from its registry (BuildKit imports the
 * inline cache of the manifest there): as for a pull, it must be in the
 * caller's namespaces, whatever is here.
 */
function checkCacheFrom(principal: Principal, refs: readonly string[], policy: NamespacePolicy): string[] {
  if (refs.length > MAX_CACHE_FROM) refuse(`cacheFrom: at most ${MAX_CACHE_FROM}`);
  return refs.map((ref) => {
    const parsed = parseReference(ref);
    if (!policy.canWrite(principal, parsed)) {
      throw new DrydockError(
        ErrorCode.FORBIDDEN,
        `cacheFrom ${ref} is outside the namespaces of token "${principal.name}" (team ${principal.team}), and the build would fetch it`,
      );
    }
    return parsed.canonical;
  });
}

/**
 * The builder a build runs on: what was asked, else BuildKit where the engine
 * has it. Secrets and cache sources exist only on BuildKit. Every refusal is
 * a 4xx given before the context is read.
 */
export async function chooseBuilder(
  request: BuilderRequest,
  principal: Principal,
  policy: NamespacePolicy,
  offered: () => Promise<Builder[]>,
): Promise<BuilderChoice> {
  const secrets = request.secrets ?? [];
  const cacheFrom = request.cacheFrom ?? [];
  checkSecretIds(secrets);
  const caches = checkCacheFrom(principal, cacheFrom, policy);
  const builders = await offered();
  const builder = request.builder ?? (builders.includes(Builder.BUILDKIT) ? Builder.BUILDKIT : Builder.LEGACY);
  if (!builders.includes(builder)) refuse(`builder ${builder}: this engine offers ${builders.join(', ') || 'none'}`);
  if (builder !== Builder.BUILDKIT && (secrets.length || cacheFrom.length)) {
    refuse(`secrets and cacheFrom need the BUILDKIT builder, not ${builder}`);
  }
  return {
    builder,
    ...(secrets.length ? { secrets } : {}),
    ...(caches.length ? { cacheFrom: caches } : {}),
  };
}
