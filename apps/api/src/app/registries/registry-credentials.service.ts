import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DockerEngine, DrydockError, ErrorCode, parseReference, type RegistryAuth } from '@drydock/docker';
import type Redis from 'ioredis';
import type { Principal } from '../auth/principal';
import { REGISTRY_HOST } from '../common/validation';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { REDIS } from '../redis/redis.module';
import type { Registry } from './registry.model';
import { loadSecretKey, type SecretBox } from './secret-box';

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
export class RegistryCredentials implements OnModuleInit {
  private box: SecretBox | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DockerEngine) private readonly engine: DockerEngine,
  ) {}

  onModuleInit(): void {
    this.box = loadSecretKey(this.config.secretKey, this.config.dataDir);
  }

  /** One Redis hash for the deployment; fields are `<team>/<host>` (neither can contain "/"). */
  get key(): string {
    return `${this.config.keyPrefix}:registry-credentials`;
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
      sealed: this.sealer().seal(input.password, associatedData(team, host, input.username)),
      updatedAt: new Date().toISOString(),
      updatedBy: principal.name,
    };
    await this.redis.hset(this.key, `${team}/${host}`, JSON.stringify(stored));
    return { host, team, username: stored.username, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  /** True when a login was removed, false when there was none. */
  async remove(principal: Principal, registry: string, team?: string): Promise<boolean> {
    const host = normaliseRegistryHost(registry);
    return (await this.redis.hdel(this.key, `${this.teamFor(principal, team)}/${host}`)) > 0;
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
    const stored = JSON.parse(json) as StoredCredential;
    let password: string;
    try {
      password = this.sealer().open(stored.sealed, associatedData(team, registry, stored.username));
    } catch {
      throw new DrydockError(
        ErrorCode.REGISTRY_UNAUTHORIZED,
        `the stored credential of team ${team} for ${registry} cannot be decrypted with the current key (was DRYDOCK_SECRET_KEY changed?); store it again`,
      );
    }
    return { username: stored.username, password, serveraddress: serverAddress(registry) };
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
      throw new DrydockError(code === ErrorCode.ENGINE_ERROR || code === ErrorCode.VALIDATION_FAILED ? ErrorCode.REGISTRY_ERROR : code, safe);
    }
  }

  private sealer(): SecretBox {
    if (!this.box) throw new DrydockError(ErrorCode.INTERNAL, 'the registry vault key is not loaded yet');
    return this.box;
  }
}
