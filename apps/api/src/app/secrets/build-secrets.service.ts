import { redisKeyBase, type RedisClient } from '@drydock/jobs';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DrydockError, ErrorCode } from '@drydock/core';
import type { Principal } from '../auth/principal';
import { TEAM, TEAM_MESSAGE } from '../common/validation';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import { REPLACE_IF_UNCHANGED } from '../registries/registry-credentials.service';
import type { ResealResult } from '../registries/registry.model';
import { loadKeyRing, type KeyRing, type Opened } from '../registries/secret-box';
import type { BuildSecret } from './build-secret.model';

/** What `RUN --mount=type=secret,id=<id>` may name; also what a Redis hash field and a key may hold unescaped. */
export const SECRET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** BuildKit's own cap (secretsprovider.MaxSecretSize): a longer value would fail the build at GetSecret. */
export const SECRET_MAX_BYTES = 500 * 1024;

interface SecretMeta {
  updatedAt: string;
  updatedBy: string;
}

/**
 * Stores a secret unless that would take its team past the quota. The quota
 * is checked in the same script as the write, so concurrent PUTs cannot
 * overshoot it. KEYS: values, meta, teams; ARGV: id, sealed, meta, max, team.
 */
const SET_WITHIN_QUOTA = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[5])
return 1`;

/** KEYS: values, meta, teams; ARGV: id, team. 1 when removed, 0 when there was none. */
const REMOVE = `
local removed = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
return removed`;

function associatedData(team: string, id: string): string {
  return `drydock/build-secret/v1\n${team}\n${id}`;
}

/**
 * Build secrets per team, sealed with the registry vault's key ring
 * (DRYDOCK_SECRET_KEY, DRYDOCK_SECRET_KEY_PREVIOUS). Values are stored apart
 * from their metadata, so listing and the quota never read a sealed value;
 * only secretFor opens one, in the worker, when BuildKit asks for it.
 */
@Injectable()
export class BuildSecrets implements OnModuleInit {
  private readonly logger = new Logger(BuildSecrets.name);
  private ring: KeyRing | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  onModuleInit(): void {
    this.ring = loadKeyRing(this.config.secretKey, this.config.secretKeyPrevious, this.config.dataDir);
  }

  /** Teams that hold at least one secret. */
  get teamsKey(): string {
    return `${redisKeyBase(this.config.keyPrefix)}:build-secrets:teams`;
  }

  /** id -> sealed value. */
  valuesKey(team: string): string {
    return `${redisKeyBase(this.config.keyPrefix)}:build-secrets:values:${team}`;
  }

  /** id -> SecretMeta JSON; the record of which secrets exist. */
  metaKey(team: string): string {
    return `${redisKeyBase(this.config.keyPrefix)}:build-secrets:meta:${team}`;
  }

  /** Every team's secrets (or one team's), without values, sorted by team then id. */
  async list(team?: string): Promise<BuildSecret[]> {
    const teams = team === undefined ? await this.redis.smembers(this.teamsKey) : [checkTeam(team)];
    const secrets: BuildSecret[] = [];
    for (const name of teams) {
      for (const [id, json] of Object.entries(await this.redis.hgetall(this.metaKey(name)))) {
        const meta = JSON.parse(json) as SecretMeta;
        secrets.push({ id, team: name, updatedAt: meta.updatedAt, updatedBy: meta.updatedBy });
      }
    }
    return secrets.sort((a, b) => a.team.localeCompare(b.team) || a.id.localeCompare(b.id));
  }

  /** Stores or replaces a secret of `team` (default: the caller's). The answer never holds the value. */
  async set(principal: Principal, input: { id: string; value: string; team?: string | null }): Promise<BuildSecret> {
    const id = checkId(input.id);
    const team = input.team == null ? principal.team : checkTeam(input.team);
    const bytes = Buffer.byteLength(input.value, 'utf8');
    if (bytes > SECRET_MAX_BYTES) {
      throw new DrydockError(ErrorCode.PAYLOAD_TOO_LARGE, `secret ${id}: ${bytes} bytes, over BuildKit's limit of ${SECRET_MAX_BYTES}`);
    }
    const meta: SecretMeta = { updatedAt: new Date().toISOString(), updatedBy: principal.name };
    const sealed = this.keys().seal(input.value, associatedData(team, id));
    const keys = [this.valuesKey(team), this.metaKey(team), this.teamsKey];
    const stored = Number(await this.redis.eval(SET_WITHIN_QUOTA, 3, ...keys, id, sealed, JSON.stringify(meta), this.config.teamMaxSecrets, team));
    if (stored < 0) {
      throw new DrydockError(
        ErrorCode.QUOTA_EXCEEDED,
        `team ${team} already has ${this.config.teamMaxSecrets} build secrets (DRYDOCK_TEAM_MAX_SECRETS); remove one first`,
      );
    }
    return { id, team, ...meta };
  }

  /** Removes a secret of `team` (default: the caller's); SECRET_NOT_FOUND when there is none. */
  async remove(principal: Principal, id: string, team?: string | null): Promise<void> {
    const checked = checkId(id);
    const owner = team == null ? principal.team : checkTeam(team);
    const removed = Number(await this.redis.eval(REMOVE, 3, this.valuesKey(owner), this.metaKey(owner), this.teamsKey, checked, owner));
    if (removed === 0) throw new DrydockError(ErrorCode.SECRET_NOT_FOUND, `team ${owner} has no build secret ${checked}`);
  }

  /**
   * The ids among `ids` that `team` has no secret for (empty when all exist),
   * for refusing a build before it is queued. Reads no value.
   */
  async exists(team: string, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const found = await this.redis.hmget(this.metaKey(team), ...unique);
    return unique.filter((_, index) => found[index] === null);
  }

  /**
   * The value of `team`'s secret `id`, or null when it has none. For the
   * worker only, when BuildKit asks: keep it in a local, never in job data,
   * an event, an error message or a log line.
   */
  async secretFor(team: string, id: string): Promise<Buffer | null> {
    if (!SECRET_ID.test(id) || !TEAM.test(team)) return null;
    const sealed = await this.redis.hget(this.valuesKey(team), id);
    if (sealed === null) return null;
    const opened = this.open(team, id, sealed);
    if (!opened) {
      throw new DrydockError(
        ErrorCode.BUILD_FAILED,
        `build secret ${id} of team ${team} opens with neither DRYDOCK_SECRET_KEY nor DRYDOCK_SECRET_KEY_PREVIOUS; store it again`,
      );
    }
    if (opened.stale) {
      // The build goes on either way; a failed write-back is tried again on the next read.
      await this.resealOne(team, id, sealed, opened.plaintext).catch((error: unknown) =>
        this.logger.warn(`re-sealing build secret ${team}/${id} failed: ${(error as Error).message}`),
      );
    }
    return Buffer.from(opened.plaintext, 'utf8');
  }

  /** Seals every secret still under DRYDOCK_SECRET_KEY_PREVIOUS with the current key; counts those neither key opens. */
  async reseal(): Promise<ResealResult> {
    let resealed = 0;
    let unreadable = 0;
    for (const team of await this.redis.smembers(this.teamsKey)) {
      // One value at a time: a team's values may add up to tens of MB.
      for (const id of await this.redis.hkeys(this.valuesKey(team))) {
        const sealed = await this.redis.hget(this.valuesKey(team), id);
        if (sealed === null) continue;
        const opened = this.open(team, id, sealed);
        if (!opened) unreadable++;
        else if (opened.stale && (await this.resealOne(team, id, sealed, opened.plaintext))) resealed++;
      }
    }
    return { resealed, unreadable };
  }

  private keys(): KeyRing {
    if (!this.ring) throw new DrydockError(ErrorCode.INTERNAL, 'the secret key is not loaded yet');
    return this.ring;
  }

  private open(team: string, id: string, sealed: string): Opened | null {
    try {
      return this.keys().open(sealed, associatedData(team, id));
    } catch {
      return null;
    }
  }

  /** Writes the value back under the current key, unless it was replaced since it was read. True when written. */
  private async resealOne(team: string, id: string, sealed: string, plaintext: string): Promise<boolean> {
    const resealed = this.keys().seal(plaintext, associatedData(team, id));
    return Number(await this.redis.eval(REPLACE_IF_UNCHANGED, 1, this.valuesKey(team), id, sealed, resealed)) >= 0;
  }
}

function checkId(id: string): string {
  if (typeof id !== 'string' || !SECRET_ID.test(id)) {
    throw new DrydockError(
      ErrorCode.VALIDATION_FAILED,
      `secret id ${JSON.stringify(String(id).slice(0, 140))} must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return id;
}

function checkTeam(team: string): string {
  if (typeof team !== 'string' || !TEAM.test(team)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, TEAM_MESSAGE);
  return team;
}
