import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/config';
import type { Principal } from './principal';
import { generateToken, hashToken, parseTokensFile, type TokenEntry } from './tokens-file';

/** The file made on first start when no DRYDOCK_TOKENS_FILE is configured. */
export const GENERATED_TOKENS_FILE = 'tokens.json';

const BEARER = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i;

interface LoadedToken {
  readonly principal: Principal;
  readonly digest: Buffer;
}

/**
 * Finds `token` among `entries` in time that does not depend on which entry (if
 * any) matches, nor on how much of a hash matches: every entry is compared,
 * each with timingSafeEqual over two fixed-length SHA-256 digests.
 */
export function findToken(entries: readonly LoadedToken[], token: string): Principal | null {
  const presented = createHash('sha256').update(token, 'utf8').digest();
  let found: Principal | null = null;
  for (const entry of entries) {
    if (timingSafeEqual(presented, entry.digest) && found === null) found = entry.principal;
  }
  return found;
}

export function loadTokens(entries: readonly TokenEntry[]): LoadedToken[] {
  return entries.map(({ tokenSha256, ...principal }) => ({
    principal: Object.freeze(principal),
    digest: Buffer.from(tokenSha256, 'hex'),
  }));
}

/** The bearer token in an Authorization header value, or null when the header is absent or not Bearer. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const match = BEARER.exec(header);
  return match?.[1] ?? null;
}

/**
 * The known tokens, read once at start-up. With no tokens file configured, an
 * admin token is made on first start: only its hash is kept (in the data
 * directory, mode 0600) and the token itself is printed once, to stdout.
 */
@Injectable()
export class TokenService implements OnModuleInit {
  private readonly logger = new Logger(TokenService.name);
  private tokens: LoadedToken[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.tokens = loadTokens(this.readEntries());
  }

  /** The principal of a token, or null; constant-time over the set of tokens. */
  authenticate(token: string): Principal | null {
    return findToken(this.tokens, token);
  }

  /** The principal of an `Authorization: Bearer` value; UNAUTHENTICATED when missing or unknown. */
  fromAuthorization(header: string | string[] | undefined): Principal {
    const token = bearerToken(header);
    if (token === null) {
      throw new DrydockError(ErrorCode.UNAUTHENTICATED, 'missing bearer token: send "Authorization: Bearer <token>"');
    }
    const principal = this.authenticate(token);
    if (principal === null) throw new DrydockError(ErrorCode.UNAUTHENTICATED, 'invalid bearer token');
    return principal;
  }

  private readEntries(): TokenEntry[] {
    if (this.config.tokens !== null) return [...this.config.tokens];
    const file = join(this.config.dataDir, GENERATED_TOKENS_FILE);
    const existing = tryRead(file);
    if (existing !== null) return parseTokensFile(existing, file);
    return this.createAdminToken(file);
  }

  private createAdminToken(file: string): TokenEntry[] {
    const token = generateToken();
    const entries: TokenEntry[] = [{ name: 'admin', team: 'admin', role: 'admin', namespaces: ['**'], tokenSha256: hashToken(token) }];
    mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
    try {
      // wx: two processes starting at once must not both mint a token; the loser reads the winner's file.
      writeFileSync(file, JSON.stringify(entries, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return parseTokensFile(read(file, 'tokens file'), file);
      throw error;
    }
    chmodSync(file, 0o600);
    // Deliberately not the logger: the token must not end up in a log pipeline, and this is its only copy.
    process.stdout.write(
      `\nDrydock made an admin token (only its SHA-256 is kept, in ${file}). It is shown this once:\n\n  ${token}\n\n` +
        `Use it as "Authorization: Bearer <token>". To manage tokens, write a tokens file and set DRYDOCK_TOKENS_FILE.\n\n`,
    );
    this.logger.log(`created an admin token; its hash is in ${file}`);
    return entries;
  }
}

function tryRead(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `${what} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}
