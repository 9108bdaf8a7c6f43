import { redisKeyBase, type RedisClient } from '@drydock/jobs';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DrydockError, ErrorCode, parseReference } from '@drydock/core';
import { DockerEngine, type RegistryAuth } from '@drydock/docker';
import type { Principal } from '../auth/principal';
import { CallersRefusal } from '../common/problem';
import { REGISTRY_HOST } from '../common/validation';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import type { Registry } from './registry.model';
import { loadKeyRing, type KeyRing, type Opened } from './secret-box';

/** Docker Hub's names; the engine keys its login by the v1 index address. */
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const TEAM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface StoredCredential {
  username: string;
  /** SecretBox output over the password; associated data binds team, host and username. */
  sealed: string;
  updatedAt: string;
  updatedBy: string;
}

/** The vault as readiness reports it: `degraded` while some credential opens with neither key. */
export interface VaultHealth {
  status: 'ok' | 'degraded';
  /** Credentials sealed under neither DRYDOCK_SECRET_KEY nor DRYDOCK_SECRET_KEY_PREVIOUS: they must be stored again. */
  unreadable: number;
  /** Credentials still sealed under DRYDOCK_SECRET_KEY_PREVIOUS; once 0, the previous key can go. */
  stale: number;
}

export interface ResealResult {
  /** Credentials sealed under the previous key, now sealed under the current one. */
  resealed: number;
  /** Credentials neither key opens. */
  unreadable: number;
}

/** How old the readiness count may get before a probe has it counted again (in the background). */
const RECOUNT_AFTER_MS = 60_000;

/** Replaces a hash field only if it still holds what was read: a credential stored meanwhile is not overwritten. */
export const REPLACE_IF_UNCHANGED = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end return -1`;

/** What a job hands the engine as X-Registry-Auth. */
export type EngineCredential = RegistryAuth;

/** A registry host as the vault keys it: lowercased, Docker Hub's aliases folded into docker.io. */
export function normaliseRegistryHost(input: string): string {
  if (!REGISTRY_HOST.test(input) || input.length > 255) {
    throw new DrydockError(ErrorCode.VALIDATION_FAILED, `registry ${JSON.stringify(input.slice(0, 300))} is not a host[:port]`);
  }
  const host = input.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

function serverAddress(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_SERVER : host;
}

function associatedData(team: string, host: string, username: string): string {
  return `drydock/registry-credential/v1\n${team}\n${host}\n${username}`;
}

/**
 * The registry credential vault: logins per team and registry, checked
 * against the registry when stored, kept in Redis sealed with AES-256-GCM,
 * and opened only by credentialFor, which a job calls just before the engine
 * call that needs it. Passwords never leave this class any other way.
 */
@Injectable()
export class RegistryCredentials implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(RegistryCredentials.name);
  private ring: KeyRing | undefined;
  private health: (VaultHealth & { at: number }) | undefined;
  private counting: Promise<void> | undefined;
  private countFailing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
    // The first engine's: a login check asks the registry through an engine, and any engine's answer is the registry's.
    @Inject(DockerEngine) private readonly engine: DockerEngine,
  ) {}

  onModuleInit(): void {
    this.ring = loadKeyRing(this.config.secretKey, this.config.secretKeyPrevious, this.config.dataDir);
  }

  /** Counted once at boot, so the first readiness probe after a key change already tells. */
  async onApplicationBootstrap(): Promise<void> {
    await this.recount();
  }

  /** One Redis hash for the deployment; fields are `<team>/<host>` (neither can contain "/"). */
  get key(): string {
    return `${redisKeyBase(this.config.keyPrefix)}:registry-credentials`;
  }

  /** The caller's team's logins; every team's for an admin. */
  async list(principal: Principal): Promise<Registry[]> {
    const all = await this.redis.hgetall(this.key);
    const registries: Registry[] = [];
    for (const [field, json] of Object.entries(all)) {
      const slash = field.indexOf('/');
      const team = field.slice(0, slash);
      if (principal.role !== 'admin' && team !== principal.team) continue;
      const stored = JSON.parse(json) as StoredCredential;
      registries.push({ host: field.slice(slash + 1), team, username: stored.username, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy });
    }
    return registries.sort((a, b) => a.team.localeCompare(b.team) || a.host.localeCompare(b.host));
  }

  /** Checks the login against the registry through the engine, then stores it sealed. Nothing is stored when the check fails. */
  async set(principal: Principal, input: { registry: string; username: string; password: string; team?: string }): Promise<Registry> {
    const host = normaliseRegistryHost(input.registry);
    const team = this.teamFor(principal, input.team);
    await this.check({ username: input.username, password: input.password, serveraddress: serverAddress(host) });
    const stored: StoredCredential = {
      username: input.username,
      sealed: this.keys().seal(input.password, associatedData(team, host, input.username)),
      updatedAt: new Date().toISOString(),
      updatedBy: principal.name,
    };
    await this.redis.hset(this.key, `${team}/${host}`, JSON.stringify(stored));
    await this.recount();
    return { host, team, username: stored.username, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  /** True when a login was removed, false when there was none. */
  async remove(principal: Principal, registry: string, team?: string): Promise<boolean> {
    const host = normaliseRegistryHost(registry);
    const removed = (await this.redis.hdel(this.key, `${this.teamFor(principal, team)}/${host}`)) > 0;
    await this.recount();
    return removed;
  }

  /**
   * The stored login of `team` for the registry `host` (`localhost:5000`,
   * `docker.io`), decrypted, in the shape the engine takes as X-Registry-Auth;
   * null when the team stored none. For job processors: call it in the worker
   * just before the engine call, keep the result in a local, never in job data,
   * a job event, an error message or a log line.
   */
  async credentialFor(team: string, host: string): Promise<EngineCredential | null> {
    const registry = normaliseRegistryHost(host);
    const json = await this.redis.hget(this.key, `${team}/${registry}`);
    if (json === null) return null;
    const field = `${team}/${registry}`;
    const opened = this.open(field, json);
    if (!opened) {
      this.recountSoon();
      throw new DrydockError(
        ErrorCode.REGISTRY_UNAUTHORIZED,
        `the stored credential of team ${team} for ${registry} opens with neither DRYDOCK_SECRET_KEY nor DRYDOCK_SECRET_KEY_PREVIOUS (was the key changed without keeping the old one?); store it again`,
      );
    }
    if (opened.stale) {
      // The job goes on with the password either way; a failed write-back is retried on the next read.
      await this.resealOne(field, json, opened).catch((error: unknown) => this.logger.warn(`re-sealing ${field} failed: ${(error as Error).message}`));
      await this.recount();
    }
    return { username: opened.stored.username, password: opened.plaintext, serveraddress: serverAddress(registry) };
  }

  /**
   * Seals every credential still under DRYDOCK_SECRET_KEY_PREVIOUS with the
   * current key, so the previous key can be dropped; counts those neither key opens.
   */
  async reseal(): Promise<ResealResult> {
    let resealed = 0;
    let unreadable = 0;
    for (const [field, json] of Object.entries(await this.redis.hgetall(this.key))) {
      const opened = this.open(field, json);
      if (!opened) unreadable++;
      // Not written when it changed since it was read: stored again meanwhile, so sealed with the current key.
      else if (opened.stale && (await this.resealOne(field, json, opened))) resealed++;
    }
    await this.recount();
    return { resealed, unreadable };
  }

  /**
   * What readiness reports, without decrypting anything on the probe's path:
   * counted at boot, after each change made here (writes are rare admin calls;
   * a count opens every credential, microseconds each), and again in the
   * background once older than a minute (other processes store credentials too).
   */
  vaultHealth(): VaultHealth {
    if (!this.health || Date.now() - this.health.at > RECOUNT_AFTER_MS) this.recountSoon();
    const { status, unreadable, stale } = this.health ?? { status: 'ok', unreadable: 0, stale: 0 };
    return { status, unreadable, stale };
  }

  /** credentialFor the registry of an image reference (`localhost:5000/team/app:1` -> localhost:5000). */
  async credentialForReference(team: string, reference: string): Promise<EngineCredential | null> {
    return this.credentialFor(team, parseReference(reference).domain);
  }

  private teamFor(principal: Principal, team: string | undefined): string {
    if (team === undefined || team === principal.team) return principal.team;
    if (!TEAM.test(team)) throw new DrydockError(ErrorCode.VALIDATION_FAILED, 'team must be 1-64 letters, digits, ".", "_" or "-"');
    if (principal.role !== 'admin') {
      throw new DrydockError(ErrorCode.FORBIDDEN, `token "${principal.name}" may manage only team ${principal.team}'s registry credentials`);
    }
    return team;
  }

  private async check(auth: RegistryAuth): Promise<void> {
    try {
      await this.engine.checkAuth(auth);
    } catch (error) {
      // The engine's message is the registry's; it should not echo the password, but it is not ours to trust.
      const code = error instanceof DrydockError ? error.code : ErrorCode.REGISTRY_ERROR;
      const message = error instanceof Error ? error.message : 'registry login failed';
      const safe = message.includes(auth.password) ? `registry ${auth.serveraddress} refused the login` : message;
      if (code === ErrorCode.REGISTRY_UNAUTHORIZED) throw new CallersRefusal(code, safe);
      throw new DrydockError(code === ErrorCode.ENGINE_ERROR || code === ErrorCode.VALIDATION_FAILED ? ErrorCode.REGISTRY_ERROR : code, safe);
    }
  }

  private keys(): KeyRing {
    if (!this.ring) throw new DrydockError(ErrorCode.INTERNAL, 'the registry vault key is not loaded yet');
    return this.ring;
  }

  /** The stored credential of a `<team>/<host>` field, opened; null when neither key opens it (or it is not ours to parse). */
  private open(field: string, json: string): (Opened & { stored: StoredCredential }) | null {
    const slash = field.indexOf('/');
    try {
      const stored = JSON.parse(json) as StoredCredential;
      const opened = this.keys().open(stored.sealed, associatedData(field.slice(0, slash), field.slice(slash + 1), stored.username));
      return { ...opened, stored };
    } catch {
      return null;
    }
  }

  /** Writes the credential back sealed with the current key, unless it changed since `json` was read. True when written. */
  private async resealOne(field: string, json: string, opened: Opened & { stored: StoredCredential }): Promise<boolean> {
    const slash = field.indexOf('/');
    const ad = associatedData(field.slice(0, slash), field.slice(slash + 1), opened.stored.username);
    const resealed: StoredCredential = { ...opened.stored, sealed: this.keys().seal(opened.plaintext, ad) };
    return Number(await this.redis.eval(REPLACE_IF_UNCHANGED, 1, this.key, field, json, JSON.stringify(resealed))) >= 0;
  }

  /** Counts unreadable and stale credentials; a Redis that is away leaves the last count standing. */
  private async recount(): Promise<void> {
    // Of two counts in flight, the one that read Redis last wins.
    const started = Date.now();
    try {
      let unreadable = 0;
      let stale = 0;
      for (const [field, json] of Object.entries(await this.redis.hgetall(this.key))) {
        const opened = this.open(field, json);
        if (!opened) unreadable++;
        else if (opened.stale) stale++;
      }
      if (!this.health || started >= this.health.at) this.health = { status: unreadable ? 'degraded' : 'ok', unreadable, stale, at: started };
      this.countFailing = false;
    } catch (error) {
      // Readiness says Redis is down; one line here, not one per probe.
      if (!this.countFailing) this.logger.warn(`vault not counted: ${(error as Error).message}`);
      this.countFailing = true;
    }
  }

  private recountSoon(): void {
    this.counting ??= this.recount().finally(() => (this.counting = undefined));
  }
}
