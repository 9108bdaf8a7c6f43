import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, loadKeyRing, loadSecretKey, SECRET_KEY_FILE, SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));
  const password = 'correct horse battery staple ✓';

  it('round-trips, with a fresh IV each time and no plaintext in the output', () => {
    const a = box.seal(password, 'team-a/localhost:5000');
    const b = box.seal(password, 'team-a/localhost:5000');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain(password);
    expect(Buffer.from(a.split('.')[3] as string, 'base64url').toString('utf8')).not.toContain('horse');
    expect(box.open(a, 'team-a/localhost:5000')).toBe(password);
    expect(box.open(b, 'team-a/localhost:5000')).toBe(password);
  });

  it('refuses another slot, another key, and any altered byte', () => {
    const sealed = box.seal(password, 'team-a/localhost:5000');
    expect(() => box.open(sealed, 'team-b/localhost:5000')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'team-a/localhost:5000')).toThrow();
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(parts[index] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      const altered = [...parts];
      altered[index] = bytes.toString('base64url');
      expect(() => box.open(altered.join('.'), 'team-a/localhost:5000')).toThrow();
    }
    expect(() => box.open('v2.' + parts.slice(1).join('.'), 'team-a/localhost:5000')).toThrow(/unknown format/);
    expect(() => box.open('garbage', 'x')).toThrow(/unknown format/);
  });

  it('takes a configured key as 64 hex characters only', () => {
    const hex = randomBytes(32).toString('hex');
    expect(SecretBox.fromHex(hex).open(new SecretBox(Buffer.from(hex, 'hex')).seal('x', 'ad'), 'ad')).toBe('x');
    expect(() => SecretBox.fromHex('abc')).toThrow(/64 hex/);
  });
});

describe('loadSecretKey', () => {
  it('makes the key file once, mode 0600, and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-key-'));
    const first = loadSecretKey(null, dir);
    const file = join(dir, SECRET_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    const sealed = first.seal('secret', 'ad');
    expect(loadSecretKey(null, dir).open(sealed, 'ad')).toBe('secret');
  });

  it('prefers DRYDOCK_SECRET_KEY and writes nothing then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-key-'));
    const hex = randomBytes(32).toString('hex');
    const box = loadSecretKey(hex, dir);
    expect(SecretBox.fromHex(hex).open(box.seal('s', 'ad'), 'ad')).toBe('s');
    expect(() => statSync(join(dir, SECRET_KEY_FILE))).toThrow();
  });

  it('refuses a key file others can read, or one that holds no key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-key-'));
    const file = join(dir, SECRET_KEY_FILE);
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(() => loadSecretKey(null, dir)).toThrow(/readable by group or others/);
    writeFileSync(file, 'not a key');
    chmodSync(file, 0o600);
    expect(() => loadSecretKey(null, dir)).toThrow(/expected 64 hex/);
  });
});

describe('KeyRing (key rotation)', () => {
  const a = new SecretBox(randomBytes(32));
  const b = new SecretBox(randomBytes(32));
  const c = new SecretBox(randomBytes(32));

  it('opens what the current key sealed, as not stale', () => {
    expect(new KeyRing(b, a).open(b.seal('pw', 'ad'), 'ad')).toEqual({ plaintext: 'pw', stale: false });
  });

  it('opens what the previous key sealed, as stale, and seals only with the current key', () => {
    const ring = new KeyRing(b, a);
    expect(ring.open(a.seal('pw', 'ad'), 'ad')).toEqual({ plaintext: 'pw', stale: true });
    const resealed = ring.seal('pw', 'ad');
    expect(b.open(resealed, 'ad')).toBe('pw');
    expect(() => a.open(resealed, 'ad')).toThrow();
  });

  it('refuses what neither key sealed, and the previous key for another slot', () => {
    const ring = new KeyRing(b, a);
    expect(() => ring.open(c.seal('pw', 'ad'), 'ad')).toThrow();
    expect(() => ring.open(a.seal('pw', 'team-a'), 'team-b')).toThrow();
    expect(() => new KeyRing(b).open(a.seal('pw', 'ad'), 'ad')).toThrow();
  });

  it('loads DRYDOCK_SECRET_KEY_PREVIOUS beside the current key, file-made or configured', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-key-'));
    const previous = randomBytes(32).toString('hex');
    const oldValue = SecretBox.fromHex(previous).seal('pw', 'ad');
    expect(loadKeyRing(null, previous, dir).open(oldValue, 'ad')).toEqual({ plaintext: 'pw', stale: true });
    const current = randomBytes(32).toString('hex');
    expect(loadKeyRing(current, previous, dir).open(oldValue, 'ad').stale).toBe(true);
    expect(() => loadKeyRing(current, null, dir).open(oldValue, 'ad')).toThrow();
    expect(() => loadKeyRing(current, 'short', dir)).toThrow(/64 hex/);
  });
});
