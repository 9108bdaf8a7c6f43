import { Injectable } from '@nestjs/common';
import { DrydockError, ErrorCode, matchesNamespace, parseReference, type ImageReference } from '@drydock/core';
import { roleAtLeast, type Principal } from './principal';

/**
 * Which repositories a token may write: create (build -t, commit, pull), tag
 * into, push or remove. Admins write anywhere, builders within their
 * namespace patterns, viewers nowhere. Callers check before any engine call.
 */
@Injectable()
export class NamespacePolicy {
  /** True when `principal` may write `target` (a reference, a repository, or a parsed reference). */
  canWrite(principal: Principal, target: string | ImageReference): boolean {
    if (principal.role === 'admin') return true;
    if (!roleAtLeast(principal.role, 'builder')) return false;
    const ref = typeof target === 'string' ? parseReference(target) : target;
    return principal.namespaces.some((pattern) => matchesNamespace(pattern, ref));
  }

  /** Throws FORBIDDEN (or INVALID_REFERENCE for a malformed target) unless `principal` may write `target`. */
  assertWrite(principal: Principal, target: string | ImageReference): void {
    const ref = typeof target === 'string' ? parseReference(target) : target;
    if (this.canWrite(principal, ref)) return;
    if (!roleAtLeast(principal.role, 'builder')) {
      throw new DrydockError(ErrorCode.FORBIDDEN, `token "${principal.name}" has role ${principal.role}, which may not write images`);
    }
    const allowed = principal.namespaces.length ? principal.namespaces.join(', ') : 'none';
    throw new DrydockError(
      ErrorCode.FORBIDDEN,
      `token "${principal.name}" (team ${principal.team}) may not write ${ref.repository}: outside its namespaces (${allowed})`,
    );
  }

  /**
   * True when every one of `names` lies within `principal`'s namespaces, whatever its role (a
   * viewer of team-a reads team-a's images as its own): admins own everything, a malformed name
   * nobody.
   */
  ownsAll(principal: Principal, names: readonly string[]): boolean {
    if (principal.role === 'admin') return true;
    return names.every((name) => {
      try {
        const ref = parseReference(name);
        return principal.namespaces.some((pattern) => matchesNamespace(pattern, ref));
      } catch {
        return false;
      }
    });
  }

  /** assertWrite for each target; the first refusal wins. */
  assertWriteAll(principal: Principal, targets: Iterable<string | ImageReference>): void {
    for (const target of targets) this.assertWrite(principal, target);
  }
}
