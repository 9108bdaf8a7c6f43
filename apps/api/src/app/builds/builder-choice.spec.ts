import { ErrorCode } from '@drydock/core';
import { Builder } from '@drydock/docker';
import { NamespacePolicy } from '../auth/namespace.policy';
import type { Principal } from '../auth/principal';
import { refusalOf } from '../testing/refusal';
import { chooseBuilder, MAX_BUILD_SECRETS, MAX_CACHE_FROM } from './builder-choice';

const builderA = { name: 'builder-a', team: 'team-a', role: 'builder', namespaces: ['localhost:5001/team-a/**'] } as unknown as Principal;
const policy = new NamespacePolicy();
const both = async () => [Builder.BUILDKIT, Builder.LEGACY];
const legacyOnly = async () => [Builder.LEGACY];

describe('chooseBuilder', () => {
  it('builds on BuildKit when nothing is asked and the engine has it, on the legacy builder when it has not', async () => {
    await expect(chooseBuilder({}, builderA, policy, both)).resolves.toEqual({ builder: Builder.BUILDKIT });
    await expect(chooseBuilder({}, builderA, policy, legacyOnly)).resolves.toEqual({ builder: Builder.LEGACY });
  });

  it('keeps the legacy builder for those who ask', async () => {
    await expect(chooseBuilder({ builder: Builder.LEGACY }, builderA, policy, both)).resolves.toEqual({ builder: Builder.LEGACY });
  });

  it('refuses BUILDKIT asked of an engine without it', async () => {
    expect(await refusalOf(chooseBuilder({ builder: Builder.BUILDKIT }, builderA, policy, legacyOnly))).toBe(ErrorCode.VALIDATION_FAILED);
  });

  it('takes secret ids and cache sources in the namespaces, the references made canonical', async () => {
    const choice = await chooseBuilder({ secrets: ['npm-token', 'a.b_c'], cacheFrom: ['localhost:5001/team-a/app:cache'] }, builderA, policy, both);
    expect(choice).toEqual({ builder: Builder.BUILDKIT, secrets: ['npm-token', 'a.b_c'], cacheFrom: ['localhost:5001/team-a/app:cache'] });
  });

  it.each([
    ['a secret id outside the grammar', { secrets: ['-leading-dash'] }],
    ['a secret id with a slash', { secrets: ['a/b'] }],
    ['a secret id past 128 characters', { secrets: ['a'.repeat(129)] }],
    ['a secret named twice', { secrets: ['npm', 'npm'] }],
    ['more than 32 secrets', { secrets: Array.from({ length: MAX_BUILD_SECRETS + 1 }, (_, i) => `s${i}`) }],
    ['more than 16 cache sources', { cacheFrom: Array.from({ length: MAX_CACHE_FROM + 1 }, (_, i) => `localhost:5001/team-a/c:${i}`) }],
    ['secrets on the legacy builder', { builder: Builder.LEGACY, secrets: ['npm'] }],
    ['cacheFrom on the legacy builder', { builder: Builder.LEGACY, cacheFrom: ['localhost:5001/team-a/app:cache'] }],
  ])('refuses %s with VALIDATION_FAILED', async (_what, request) => {
    expect(await refusalOf(chooseBuilder(request, builderA, policy, both))).toBe(ErrorCode.VALIDATION_FAILED);
  });

  it('refuses a malformed cache reference with INVALID_REFERENCE', async () => {
    expect(await refusalOf(chooseBuilder({ cacheFrom: ['localhost:5001/team-a/app:bad tag'] }, builderA, policy, both))).toBe(ErrorCode.INVALID_REFERENCE);
  });

  it("refuses a cache source in another team's namespace: the build would fetch it", async () => {
    expect(await refusalOf(chooseBuilder({ cacheFrom: ['localhost:5001/team-b/app:cache'] }, builderA, policy, both))).toBe(ErrorCode.FORBIDDEN);
  });
});
