import { DrydockError, ErrorCode } from '@drydock/core';
import { NamespacePolicy } from './namespace.policy';
import type { Principal } from './principal';

const policy = new NamespacePolicy();
const viewer: Principal = { name: 'v', team: 'team-a', role: 'viewer', namespaces: ['team-a/*'] };
const builderA: Principal = { name: 'ci-a', team: 'team-a', role: 'builder', namespaces: ['localhost:5001/team-a/**', 'team-a/*'] };
const builderB: Principal = { name: 'ci-b', team: 'team-b', role: 'builder', namespaces: ['localhost:5001/team-b/**', 'team-b/*'] };
const bare: Principal = { name: 'ci-none', team: 'team-c', role: 'builder', namespaces: [] };
const admin: Principal = { name: 'ops', team: 'ops', role: 'admin', namespaces: [] };

describe('NamespacePolicy', () => {
  it.each(([
    [admin, 'anything/at/all:v1', true],
    [admin, 'ubuntu', true],
    [viewer, 'team-a/app', false],
    [viewer, 'localhost:5001/team-a/app:1', false],
    [builderA, 'team-a/app', true],
    [builderA, 'team-a/app:v2', true],
    [builderA, 'docker.io/team-a/app', true],
    [builderA, 'team-a/app@sha256:' + 'a'.repeat(64), true],
    [builderA, 'team-a/deep/app', false],
    [builderA, 'localhost:5001/team-a/app', true],
    [builderA, 'localhost:5001/team-a/x/y/z:1', true],
    [builderA, 'localhost:5001/team-a', false],
    [builderA, 'localhost:5002/team-a/app', false],
    [builderA, 'team-b/app', false],
    [builderA, 'localhost:5001/team-b/app', false],
    [builderA, 'team-ab/app', false],
    [builderA, 'ubuntu', false],
    [builderA, 'library/team-a', false],
    [builderB, 'team-b/app', true],
    [builderB, 'team-a/app', false],
    [bare, 'team-c/app', false],
  ] as Array<[Principal, string, boolean]>).map(([principal, target, allowed]) => [principal.name, target, allowed, principal] as const))('%s may write %s: %s', (_name, target, allowed, principal) => {
    expect(policy.canWrite(principal, target)).toBe(allowed);
    if (allowed) {
      expect(() => policy.assertWrite(principal, target)).not.toThrow();
    } else {
      let error: unknown;
      try {
        policy.assertWrite(principal, target);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DrydockError);
      expect((error as DrydockError).code).toBe(ErrorCode.FORBIDDEN);
    }
  });

  it('says why: the role, or the namespaces the token has', () => {
    expect(() => policy.assertWrite(viewer, 'team-a/app')).toThrow(/role viewer, which may not write/);
    expect(() => policy.assertWrite(builderA, 'team-b/app')).toThrow(/may not write team-b\/app: outside its namespaces \(localhost:5001\/team-a\/\*\*, team-a\/\*\)/);
    expect(() => policy.assertWrite(bare, 'team-c/app')).toThrow(/namespaces \(none\)/);
  });

  it('refuses a malformed target as an invalid reference, not as allowed', () => {
    expect(() => policy.assertWrite(builderA, 'team-a/../etc')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_REFERENCE }));
    expect(() => policy.assertWrite(builderA, 'Team-A/App')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_REFERENCE }));
  });

  it('checks every target of a multi-target write', () => {
    expect(() => policy.assertWriteAll(builderA, ['team-a/x:1', 'team-b/x:1'])).toThrow(/team-b\/x/);
    expect(() => policy.assertWriteAll(builderA, ['team-a/x:1', 'localhost:5001/team-a/x:1'])).not.toThrow();
  });
});
