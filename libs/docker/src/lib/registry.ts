import { DrydockError, ErrorCode } from '@drydock/core';

export interface RegistryCredential {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  timeoutMs?: number;
  /**
   * Hosts (`host[:port]`) besides the registry's own that its token realm may
   * name. A realm elsewhere is refused before it is fetched: a registry must
   * not be able to send Drydock, and the credential, to any URL it likes.
   */
  realmHosts?: readonly string[];
}

/**
 * A minimal client for a registry's own HTTP API (distribution v2): the
 * catalogue (which the engine cannot list) and manifest digests. Loopback
 * registries speak plain HTTP, as the engine assumes for them.
 */
export class RegistryClient {
  private token: string | undefined;
  private readonly timeoutMs: number;
  private readonly realmHosts: ReadonlySet<string>;

  constructor(
    readonly host: string,
    private readonly credential?: RegistryCredential,
    options: RegistryClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.realmHosts = new Set([host, ...(options.realmHosts ?? [])].map((h) => h.toLowerCase()));
  }

  get baseUrl(): string {
    const hostname = this.host.replace(/:\d+$/, '');
    const plain = hostname === 'localhost' || hostname.startsWith('127.') || hostname === '[::1]';
    return `${plain ? 'http' : 'https'}://${this.host}`;
  }

  /** Repository names, up to `limit`. */
  async catalog(limit: number): Promise<string[]> {
    const response = await this.request(`/v2/_catalog?n=${limit}`, { scope: 'registry:catalog:*' });
    const body = (await response.json()) as { repositories?: string[] | null };
    return body.repositories ?? [];
  }

  async tags(repository: string): Promise<string[]> {
    const response = await this.request(`/v2/${repository}/tags/list`, { scope: `repository:${repository}:pull` });
    const body = (await response.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** The digest the registry holds for repository:tag, from Docker-Content-Digest. */
  async manifestDigest(repository: string, tag: string): Promise<string> {
    const response = await this.request(`/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      scope: `repository:${repository}:pull`,
      accept: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
      ].join(', '),
    });
    const digest = response.headers.get('docker-content-digest');
    if (!digest) throw new DrydockError(ErrorCode.REGISTRY_ERROR, `${this.host} gave no digest for ${repository}:${tag}`);
    return digest;
  }

  private async request(
    path: string,
    options: { method?: string; scope: string; accept?: string },
    retried = false,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.accept) headers['accept'] = options.accept;
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    else if (this.credential) headers['authorization'] = `Basic ${basic(this.credential)}`;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method: options.method ?? 'GET',
        headers,
        // A redirect could lead anywhere, with the credential: the endpoints used here never redirect.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DrydockError(ErrorCode.REGISTRY_UNREACHABLE, `registry ${this.host} unreachable: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 401 && !retried) {
      const challenge = response.headers.get('www-authenticate') ?? '';
      if (/^bearer/i.test(challenge)) {
        this.token = await this.fetchToken(challenge, options.scope);
        return this.request(path, options, true);
      }
    }
    if (response.status === 401 || response.status === 403) {
      throw new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, `registry ${this.host} refused the ${this.credential ? 'credential' : 'anonymous request'} (${response.status})`);
    }
    if (response.status === 404) {
      throw new DrydockError(ErrorCode.NOT_FOUND, `registry ${this.host} has no ${path}`);
    }
    if (!response.ok) {
      throw new DrydockError(ErrorCode.REGISTRY_ERROR, `registry ${this.host} answered ${response.status} for ${path}`);
    }
    return response;
  }

  private realmUrl(realm: string): URL {
    const url = realmOnAllowedHost(realm, this.realmHosts);
    // A registry spoken to over TLS must not downgrade its credential to plain HTTP.
    if (!url || (url.protocol === 'http:' && this.baseUrl.startsWith('https:'))) {
      throw new DrydockError(
        ErrorCode.REGISTRY_UNAUTHORIZED,
        `registry ${this.host} names a token realm (${JSON.stringify(realm.slice(0, 200))}) that is not on its own host or an allowed registry host (or downgrades to plain HTTP); nothing was sent there`,
      );
    }
    return url;
  }

  /** The token dance of a registry behind an auth server (`WWW-Authenticate: Bearer realm=...`). */
  private async fetchToken(challenge: string, scope: string): Promise<string> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const realm = params['realm'];
    if (!realm) throw new DrydockError(ErrorCode.REGISTRY_ERROR, `registry ${this.host} sent a bearer challenge without a realm`);
    const url = this.realmUrl(realm);
    if (params['service']) url.searchParams.set('service', params['service']);
    url.searchParams.set('scope', params['scope'] ?? scope);
    const response = await fetch(url, {
      headers: this.credential ? { authorization: `Basic ${basic(this.credential)}` } : {},
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((error: Error) => {
      throw new DrydockError(ErrorCode.REGISTRY_UNREACHABLE, `auth server of ${this.host} unreachable: ${error.message}`, { cause: error });
    });
    if (!response.ok) throw new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, `auth server of ${this.host} refused (${response.status})`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, `auth server of ${this.host} gave no token`);
    return token;
  }
}

/** The realm's URL, when it is on the registry's own host or one allowed beside it. */
function realmOnAllowedHost(realm: string, allowed: ReadonlySet<string>): URL | null {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  const host = url.host.toLowerCase();
  // new URL() drops a default port; an allowed entry may still spell it out.
  const spelled = url.port === '' ? `${host}:${url.protocol === 'https:' ? 443 : 80}` : host;
  return allowed.has(host) || allowed.has(spelled) ? url : null;
}

function basic(credential: RegistryCredential): string {
  return Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
}
