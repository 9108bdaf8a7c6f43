import { DrydockError, ErrorCode } from '@drydock/core';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file that holds the vault key when DRYDOCK_SECRET_KEY is not set. */
export const SECRET_KEY_FILE = 'secret.key';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const KEY_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * AES-256-GCM with a fresh 96-bit IV per message. The associated data binds a
 * ciphertext to the slot it was written for (team, host, username), so a
 * value copied to another team's slot does not decrypt.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.key = key;
  }

  static fromHex(hex: string): SecretBox {
    if (!KEY_HEX.test(hex)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'secret key: expected 64 hex characters');
    return new SecretBox(Buffer.from(hex, 'hex'));
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, each part base64url. */
  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** The plaintext; throws when the value was altered, sealed with another key, or for another slot. */
  open(sealed: string, associatedData: string): string {
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined || rest.length) {
      throw new Error('sealed value has an unknown format');
    }
    const decipher = createDecipheriv(ALGORITHM, this.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** What a key ring made of a sealed value: the plaintext, and whether it was sealed with the previous key. */
export interface Opened {
  plaintext: string;
  /** Sealed with the previous key: seal it again with the current one. */
  stale: boolean;
}

/**
 * The current key, which seals, and during a rotation the previous one, which
 * only opens: values sealed before DRYDOCK_SECRET_KEY changed stay readable
 * until they are sealed again. GCM's tag makes trying both keys safe: the
 * wrong key fails authentication, it never yields a wrong plaintext.
 */
export class KeyRing {
  constructor(
    private readonly current: SecretBox,
    private readonly previous: SecretBox | null = null,
  ) {}

  seal(plaintext: string, associatedData: string): string {
    return this.current.seal(plaintext, associatedData);
  }

  /** Throws when neither key opens the value (or it was altered, or belongs to another slot). */
  open(sealed: string, associatedData: string): Opened {
    try {
      return { plaintext: this.current.open(sealed, associatedData), stale: false };
    } catch (error) {
      if (!this.previous) throw error;
      return { plaintext: this.previous.open(sealed, associatedData), stale: true };
    }
  }
}

/** The key ring of the configuration: the current key (see loadSecretKey) and DRYDOCK_SECRET_KEY_PREVIOUS, if set. */
export function loadKeyRing(configured: string | null, previous: string | null, dataDir: string): KeyRing {
  return new KeyRing(loadSecretKey(configured, dataDir), previous === null ? null : SecretBox.fromHex(previous));
}

/**
 * The vault key: DRYDOCK_SECRET_KEY when set, else `<dataDir>/secret.key`,
 * made once (mode 0600) and reused; API and worker processes sharing a data
 * directory share the key.
 */
export function loadSecretKey(configured: string | null, dataDir: string): SecretBox {
  if (configured !== null) return SecretBox.fromHex(configured);
  const file = join(dataDir, SECRET_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing !== null) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  } catch (error) {
    // Another process made it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const made = readKeyFile(file);
  if (made === null) throw new DrydockError(ErrorCode.INTERNAL, `${file} vanished after it was written`);
  return made;
}

function readKeyFile(file: string): SecretBox | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `secret key file ${file}: cannot read it (${(error as Error).message})`, { cause: error });
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `secret key file ${file} is readable by group or others; chmod 600 it`);
  }
  const hex = text.trim();
  if (!KEY_HEX.test(hex)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, `secret key file ${file}: expected 64 hex characters`);
  return SecretBox.fromHex(hex);
}
