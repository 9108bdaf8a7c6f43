import { DrydockError, ErrorCode } from '@drydock/core';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TOKEN_ROLES, type Principal, type TokenRole } from './principal';

/** One entry of DRYDOCK_TOKENS_FILE: the file holds hashes only, never a token. */
export interface TokenEntry extends Principal {
  /** Hex SHA-256 of the bearer token, lowercase. */
  readonly tokenSha256: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
/** Reference characters plus the two wildcards; `[` `]` for IPv6 hosts. */
const NAMESPACE = /^[A-Za-z0-9._\-/:*[\]]{1,300}$/;
const KNOWN_FIELDS = new Set(['name', 'team', 'role', 'namespaces', 'tokenSha256']);

/** The hex SHA-256 of a bearer token, as the tokens file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new bearer token: 256 random bits, URL-safe, with a prefix that secret scanners can recognise. */
export function generateToken(): string {
  return `ddk_${randomBytes(32).toString('base64url')}`;
}

/**
 * Parses and checks a tokens file. Every problem names the file, the entry and
 * the field, so a bad deployment fails at boot with a message an operator can act on.
 */
export function parseTokensFile(text: string, source: string): TokenEntry[] {
  const fail = (detail: string): never => {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `tokens file ${source}: ${detail}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(raw)) return fail('expected a JSON array of { name, team, role, namespaces, tokenSha256 }');
  if (raw.length === 0) return fail('holds no tokens, so nobody could call the API');

  const names = new Set<string>();
  const hashes = new Set<string>();
  return raw.map((item: unknown, index): TokenEntry => {
    const at = (field: string, detail: string): never => fail(`entry ${index + 1}${field ? ` field "${field}"` : ''}: ${detail}`);
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return at('', 'expected an object');
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!KNOWN_FIELDS.has(key)) at(key, key === 'token' ? 'holds a clear-text token; store only tokenSha256' : 'unknown field');
    }
    const { name, team, role, namespaces, tokenSha256 } = entry;
    if (typeof name !== 'string' || !NAME.test(name)) at('name', 'expected 1-64 letters, digits, ".", "_", "@" or "-"');
    if (typeof team !== 'string' || !TEAM.test(team)) at('team', 'expected 1-64 letters, digits, ".", "_" or "-"');
    if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) at('role', `expected one of ${TOKEN_ROLES.join(', ')}`);
    if (namespaces === undefined && role !== 'builder') {
      // Viewers write nothing and admins write anywhere: namespaces only bound builders.
    } else if (!Array.isArray(namespaces) || namespaces.some((pattern) => typeof pattern !== 'string' || !NAMESPACE.test(pattern))) {
      at('namespaces', 'expected an array of repository patterns such as "team-a/*" or "localhost:5000/team-a/**"');
    }
    if (typeof tokenSha256 !== 'string' || !SHA256_HEX.test(tokenSha256)) at('tokenSha256', 'expected the hex SHA-256 of the token (64 hex characters)');
    const hash = (tokenSha256 as string).toLowerCase();
    if (names.has(name as string)) at('name', `"${name as string}" is used by an earlier entry`);
    if (hashes.has(hash)) at('tokenSha256', 'the same token hash appears in an earlier entry');
    names.add(name as string);
    hashes.add(hash);
    return {
      name: name as string,
      team: team as string,
      role: role as TokenRole,
      namespaces: Object.freeze([...((namespaces as string[] | undefined) ?? [])]),
      tokenSha256: hash,
    };
  });
}

/** Reads and checks DRYDOCK_TOKENS_FILE; at boot, before anything connects, so a bad file stops start-up cleanly. */
export function readTokensFile(file: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `DRYDOCK_TOKENS_FILE ${file}: cannot read it (${reason})`, { cause: error });
  }
  return parseTokensFile(text, file);
}
