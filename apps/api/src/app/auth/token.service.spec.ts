import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config';
import { bearerToken, findToken, GENERATED_TOKENS_FILE, loadTokens, TokenService } from './token.service';
import { hashToken } from './tokens-file';

const entries = loadTokens([
  { name: 'viewer', team: 'a', role: 'viewer', namespaces: [], tokenSha256: hashToken('token-viewer') },
  { name: 'builder', team: 'a', role: 'builder', namespaces: ['a/*'], tokenSha256: hashToken('token-builder') },
  { name: 'admin', team: 'ops', role: 'admin', namespaces: [], tokenSha256: hashToken('token-admin') },
]);

describe('token lookup', () => {
  afterEach(() => jest.restoreAllMocks());

  it('finds the principal of a known token, without its hash', () => {
    expect(findToken(entries, 'token-builder')).toEqual({ name: 'builder', team: 'a', role: 'builder', namespaces: ['a/*'] });
    expect(findToken(entries, 'token-admin')?.name).toBe('admin');
  });

  it.each(['', 'token-builde', 'token-builderx', 'TOKEN-BUILDER', hashToken('token-builder')])('knows no principal for %j', (token) => {
    expect(findToken(entries, token)).toBeNull();
  });

  it('compares digests of equal length with timingSafeEqual, against every entry, whichever matches', () => {
    // The module object itself: token.service reads timingSafeEqual from it at call time.
    const spy = jest.spyOn(jest.requireActual<typeof import('node:crypto')>('node:crypto'), 'timingSafeEqual');
    for (const token of ['token-viewer', 'token-admin', 'x', 'a much longer token than any of the others, by far']) {
      spy.mockClear();
      findToken(entries, token);
      expect(spy).toHaveBeenCalledTimes(entries.length);
      for (const [a, b] of spy.mock.calls) {
        expect((a as Buffer).length).toBe(32);
        expect((b as Buffer).length).toBe(32);
      }
    }
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer a b', null],
    ['Bearer ' + 'x'.repeat(513), null],
    ['Bearer t\u00e9st', null],
  ])('reads the bearer token of %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it('reads no token from a missing or repeated header', () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken(['Bearer a', 'Bearer b'])).toBeNull();
  });
});

describe('TokenService start-up', () => {
  const config = (env: Record<string, string>) => loadConfig({ DRYDOCK_DATA_DIR: mkdtempSync(join(tmpdir(), 'drydock-tokens-')), ...env });
  let printed: string[];
  beforeEach(() => {
    printed = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('makes an admin token once, keeps only its hash (0600), prints it once, and reuses it later', () => {
    const cfg = config({});
    const first = new TokenService(cfg);
    first.onModuleInit();
    const token = /\n {2}(ddk_\S+)\n/.exec(printed.join(''))?.[1];
    expect(token).toBeDefined();
    const file = join(cfg.dataDir, GENERATED_TOKENS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(token as string);
    expect(stored).toContain(hashToken(token as string));
    expect(first.authenticate(token as string)).toMatchObject({ role: 'admin' });

    printed.length = 0;
    const second = new TokenService(cfg);
    second.onModuleInit();
    expect(printed.join('')).toBe('');
    expect(second.authenticate(token as string)).toMatchObject({ name: 'admin', role: 'admin' });
  });

  it('uses DRYDOCK_TOKENS_FILE when set and makes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-tokens-'));
    const file = join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify([{ name: 'ci', team: 'a', role: 'builder', namespaces: ['a/*'], tokenSha256: hashToken('t1') }]));
    const service = new TokenService(config({ DRYDOCK_TOKENS_FILE: file }));
    service.onModuleInit();
    expect(printed.join('')).toBe('');
    expect(service.authenticate('t1')).toMatchObject({ name: 'ci', team: 'a' });
    expect(() => service.fromAuthorization('Bearer t2')).toThrow('invalid bearer token');
    expect(() => service.fromAuthorization(undefined)).toThrow('missing bearer token');
  });

  it('fails start-up with the path when DRYDOCK_TOKENS_FILE cannot be read', () => {
    // loadConfig reads it, before anything connects anywhere.
    expect(() => config({ DRYDOCK_TOKENS_FILE: '/nonexistent/tokens.json' })).toThrow(
      /DRYDOCK_TOKENS_FILE \/nonexistent\/tokens.json: cannot read it \(ENOENT\)/,
    );
  });
});
