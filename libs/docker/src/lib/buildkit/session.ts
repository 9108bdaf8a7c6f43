import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { DrydockError } from '@drydock/core';
import type { ContextFiles } from './context-source';
import { diffCopy } from './filesync';
import { HEALTH_SERVING, messageType } from './proto';
import type { BuildkitLogin } from './trace';

/** BuildKit's own cap on a secret (session/secrets/secretsprovider: MaxSecretSize). */
export const MAX_SECRET_BYTES = 500 * 1024;

/** What a build's session answers BuildKit with; both asked lazily, per host and per id. */
export interface SessionProviders {
  login?: (host: string) => Promise<BuildkitLogin | null>;
  secret?: (id: string) => Promise<Buffer | null>;
  /** The build context, served through FileSync instead of sent as the build's body. */
  files?: ContextFiles;
}

/** A session BuildKit can call back into for the length of one build. */
export interface BuildkitSession {
  id: string;
  /** Idempotent: stops serving and drops the hijacked connection. */
  close(): void;
}

interface Method {
  name: string;
  request: string;
  response: string;
}

function service(pkg: string, serviceName: string, methods: Method[]): ServiceDefinition {
  const definition: Record<string, unknown> = {};
  for (const method of methods) {
    const request = messageType(`${pkg}.${method.request}`);
    const response = messageType(`${pkg}.${method.response}`);
    definition[method.name] = {
      path: `/${pkg}.${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), { defaults: true }),
      responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), { defaults: true }),
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}

const AUTH = service('moby.filesync.v1', 'Auth', [
  { name: 'Credentials', request: 'CredentialsRequest', response: 'CredentialsResponse' },
  { name: 'FetchToken', request: 'FetchTokenRequest', response: 'FetchTokenResponse' },
  { name: 'GetTokenAuthority', request: 'GetTokenAuthorityRequest', response: 'GetTokenAuthorityResponse' },
  { name: 'VerifyTokenAuthority', request: 'VerifyTokenAuthorityRequest', response: 'VerifyTokenAuthorityResponse' },
]);
const SECRETS = service('moby.buildkit.secrets.v1', 'Secrets', [{ name: 'GetSecret', request: 'GetSecretRequest', response: 'GetSecretResponse' }]);
const identity = (bytes: Buffer) => bytes;
/** Packets pass as bytes: the sender lays out its DATA packets itself (packets.ts). */
const FILE_SYNC = {
  DiffCopy: {
    path: '/moby.filesync.v1.FileSync/DiffCopy',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'DiffCopy',
  },
} as ServiceDefinition;
const HEALTH = service('grpc.health.v1', 'Health', [{ name: 'Check', request: 'HealthCheckRequest', response: 'HealthCheckResponse' }]);

type Unary = (call: ServerUnaryCall<Record<string, unknown>, unknown>, callback: sendUnaryData<unknown>) => void;

/** A unary handler whose failures, thrown or rejected, answer a gRPC error: a provider never takes the process down. */
function unary(what: string, answer: (request: Record<string, unknown>) => Promise<unknown>): Unary {
  return (call, callback) => {
    let settled = false;
    const reply = (error: { code: number; details: string } | null, value?: unknown) => {
      if (settled) return;
      settled = true;
      try {
        callback(error, value);
      } catch {
        // The call went away with the session.
      }
    };
    Promise.resolve()
      .then(() => answer(call.request))
      .then(
        (value) => reply(null, value),
        (error: unknown) => {
          if (isGrpcError(error)) return reply(error);
          // A Drydock error's message is meant for users; anything else stays inside.
          const details = error instanceof DrydockError ? error.message : `drydock could not answer ${what}`;
          reply({ code: status.UNAVAILABLE, details });
        },
      );
  };
}

function grpcError(code: status, details: string): { code: status; details: string } {
  return { code, details };
}

function isGrpcError(error: unknown): error is { code: number; details: string } {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { details?: unknown }).details === 'string';
}

function unimplemented(method: string): Unary {
  return (_call, callback) => callback({ code: status.UNIMPLEMENTED, details: `${method} is not served` });
}

function implementations(providers: SessionProviders): Array<[ServiceDefinition, UntypedServiceImplementation]> {
  return [
    ...(providers.files ? ([[FILE_SYNC, { DiffCopy: diffCopy(providers.files) }]] as Array<[ServiceDefinition, UntypedServiceImplementation]>) : []),
    [
      AUTH,
      {
        Credentials: unary('a registry login', async (request) => {
          const login = providers.login ? await providers.login(String(request['Host'] ?? '')) : null;
          // Empty credentials mean anonymous to BuildKit.
          return login ? { Username: login.username, Secret: login.password } : {};
        }),
        // UNIMPLEMENTED on GetTokenAuthority is what makes BuildKit ask Credentials instead (util/resolver/authorizer.go);
        // FetchToken and VerifyTokenAuthority are only called once an authority was given.
        FetchToken: unimplemented('FetchToken'),
        GetTokenAuthority: unimplemented('GetTokenAuthority'),
        VerifyTokenAuthority: unimplemented('VerifyTokenAuthority'),
      },
    ],
    [
      SECRETS,
      {
        GetSecret: unary('a build secret', async (request) => {
          const id = String(request['ID'] ?? '');
          const value = providers.secret ? await providers.secret(id) : null;
          // NOT_FOUND is what BuildKit turns into "secret <id> not found".
          if (!value) throw grpcError(status.NOT_FOUND, `secret ${id} not found`);
          if (value.length > MAX_SECRET_BYTES) throw grpcError(status.INVALID_ARGUMENT, `secret ${id} is larger than ${MAX_SECRET_BYTES} bytes`);
          return { data: value };
        }),
      },
    ],
    // BuildKit checks the session every second and drops it at the first failed check (session/grpc.go).
    [HEALTH, { Check: unary('a health check', async () => ({ status: HEALTH_SERVING })) }],
  ];
}

interface Modem {
  dial(options: object, callback: (error: unknown, result: unknown) => void): void;
}

function dialSession(docker: Dockerode, id: string, methods: string[]): Promise<Duplex> {
  const modem = docker.modem as unknown as Modem;
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        method: 'POST',
        path: '/session',
        hijack: true,
        headers: {
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': 'drydock',
          // BuildKit asks FileSync only when DiffCopy is listed here; the others are listed as the docker CLI lists them.
          'X-Docker-Expose-Session-Grpc-Method': methods,
          // BuildKit reuses the last synced copy of a context with the same shared key, and asks only for the files
          // whose size and mtime changed: another team's files must never be taken for this build's, so none is shared.
          'X-Docker-Expose-Session-Sharedkey': randomUUID(),
        },
        statusCodes: { 101: true, 400: 'bad parameter', 500: 'server error' },
      },
      (error, result) => {
        if (error) return reject(error);
        if (!result || typeof (result as Duplex).pipe !== 'function') return reject(new Error('the engine did not upgrade the session connection'));
        resolve(result as Duplex);
      },
    );
  });
}

/**
 * Opens a session on the engine (POST /session, gRPC over the hijacked connection) serving `providers`.
 * `id` is the one a build names, which may be sent before the session is open.
 */
export async function openSession(docker: Dockerode, providers: SessionProviders, id: string = randomUUID()): Promise<BuildkitSession> {
  const served = implementations(providers);
  const methods = served.flatMap(([definition]) => Object.values(definition).map((method) => method.path));
  const socket = await dialSession(docker, id, methods);
  // A reset from the engine ends the session; the build's own stream reports what went wrong.
  socket.on('error', () => socket.destroy());
  const server = new Server();
  for (const [definition, implementation] of served) server.addService(definition, implementation);
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  injector.injectConnection(socket);
  // Node's http2 feeds bytes already read (the engine's first frames) to the session on the next
  // tick, and throws, uncaught, if the session was destroyed by then (internal/http2/core.js).
  await new Promise((resolve) => setImmediate(resolve));
  let closed = false;
  return {
    id,
    close() {
      if (closed) return;
      closed = true;
      injector.destroy();
      server.forceShutdown();
      socket.destroy();
    },
  };
}
