import { DrydockError, ErrorCode } from '@drydock/core';
import { generateToken, hashToken, parseTokensFile } from './tokens-file';

const HASH = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

function parse(value: unknown): ReturnType<typeof parseTokensFile> {
  return parseTokensFile(typeof value === 'string' ? value : JSON.stringify(value), '/etc/drydock/tokens.json');
}

function failure(value: unknown): DrydockError {
  try {
    parse(value);
  } catch (error) {
    return error as DrydockError;
  }
  throw new Error('expected the tokens file to be refused');
}

describe('tokens file', () => {
  it('hashes a token as hex SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('makes long, distinct, URL-safe tokens', () => {
    const a = generateToken();
    expect(a).toMatch(/^ddk_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
  });

  it('reads valid entries, lowercasing hashes', () => {
    const entries = parse([
      { name: 'ci-a', team: 'team-a', role: 'builder', namespaces: ['team-a/*', 'localhost:5000/team-a/**'], tokenSha256: HASH.toUpperCase() },
      { name: 'ops', team: 'ops', role: 'admin', tokenSha256: OTHER },
    ]);
    expect(entries).toEqual([
      { name: 'ci-a', team: 'team-a', role: 'builder', namespaces: ['team-a/*', 'localhost:5000/team-a/**'], tokenSha256: HASH },
      { name: 'ops', team: 'ops', role: 'admin', namespaces: [], tokenSha256: OTHER },
    ]);
  });

  const valid = { name: 'x', team: 't', role: 'viewer', namespaces: [], tokenSha256: HASH };
  it.each([
    ['not JSON', '{nope', /not valid JSON/],
    ['not an array', { tokens: [] }, /expected a JSON array/],
    ['empty', [], /holds no tokens/],
    ['an entry that is not an object', ['x'], /entry 1: expected an object/],
    ['an unknown role', [{ ...valid, role: 'root' }], /entry 1 field "role": expected one of viewer, builder, admin/],
    ['a short hash', [{ ...valid, tokenSha256: 'abc' }], /entry 1 field "tokenSha256"/],
    ['a missing hash', [{ name: 'x', team: 't', role: 'viewer' }], /field "tokenSha256"/],
    ['a clear-text token', [{ ...valid, token: 'secret' }], /field "token": holds a clear-text token/],
    ['an unknown field', [{ ...valid, teams: ['a'] }], /field "teams": unknown field/],
    ['a builder without namespaces', [{ ...valid, role: 'builder', namespaces: undefined }], /field "namespaces"/],
    ['a bad namespace', [{ ...valid, namespaces: ['team a/*'] }], /field "namespaces"/],
    ['a bad team', [{ ...valid, team: '../etc' }], /field "team"/],
    ['an empty name', [{ ...valid, name: '' }], /field "name"/],
    ['a duplicate name', [valid, { ...valid, tokenSha256: OTHER }], /entry 2 field "name": "x" is used by an earlier entry/],
    ['a duplicate hash', [valid, { ...valid, name: 'y', tokenSha256: HASH.toUpperCase() }], /entry 2 field "tokenSha256": the same token hash/],
  ])('refuses %s, naming the file and the entry', (_what, value, message) => {
    const error = failure(value);
    expect(error).toBeInstanceOf(DrydockError);
    expect(error.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect(error.message).toContain('/etc/drydock/tokens.json');
    expect(error.message).toMatch(message);
  });

  it('never echoes a clear-text token it refuses', () => {
    expect(failure([{ ...valid, token: 'hunter2-secret' }]).message).not.toContain('hunter2-secret');
  });
});
