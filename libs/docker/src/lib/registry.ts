import { DrydockError, ErrorCode } from './errors';

export interface RegistryCredential {
  username: string;
  password: string;
}

/**
 * A minimal client for a registry's own HTTP API (distribution v2): the
 * catalogue (which the engine cannot list) and manifest digests. Loopback
 * registries speak plain HTTP, as the engine assumes for them.
 */
export class RegistryClient {
  private token: string | undefined;

  constructor(
    readonly host: string,
    private readonly credential?: RegistryCredential,
    private readonly timeoutMs = 10_000,
  ) {}

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

  /** The token dance of a registry behind an auth server (`WWW-Authenticate: Bearer realm=...`). */
  private async fetchToken(challenge: string, scope: string): Promise<string> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const realm = params['realm'];
    if (!realm) throw new DrydockError(ErrorCode.REGISTRY_ERROR, `registry ${this.host} sent a bearer challenge without a realm`);
    const url = new URL(realm);
    if (params['service']) url.searchParams.set('service', params['service']);
    url.searchParams.set('scope', params['scope'] ?? scope);
    const response = await fetch(url, {
      headers: this.credential ? { authorization: `Basic ${basic(this.credential)}` } : {},
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

function basic(credential: RegistryCredential): string {
  return Buffer.from(`${credential.username}:${credential.password}`).toString('base64');
}
