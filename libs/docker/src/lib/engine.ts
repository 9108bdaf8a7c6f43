import Dockerode from 'dockerode';
import { ContainerOperations, type ContainerClient } from './containers';
import { DrydockError, ErrorCode } from '@drydock/core';
import { ImageOperations, type ImageClient } from './images';
import { SystemOperations } from './system';
import type { RegistryAuth } from './types';
import { engineCall } from './engine-errors';
import { observeEngineRequests, type EngineRequestObserver } from './engine-observer';
import { traceEngineRequests } from './engine-spans';

/** The client side of an engine's TLS, as the Docker CLI finds it in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem). */
export interface EngineTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface EngineConnection {
  /** `unix:///var/run/docker.sock` or `tcp://host:port`. */
  dockerHost: string;
  /** With a tcp:// host: speak TLS and verify the engine against `ca` (DOCKER_TLS_VERIFY=1). */
  tls?: EngineTls | null;
  /** The engine's name in Drydock (DRYDOCK_ENGINES), on its spans. Default `default`. */
  name?: string;
  /** Told of every request to the engine (metrics); none by default. */
  onRequest?: EngineRequestObserver;
}

/** Turns DOCKER_HOST (and the CLI's TLS files) into dockerode's connection options. */
export function connectionOptions(dockerHost: string, tls?: EngineTls | null): Dockerode.DockerOptions {
  const url = new URL(dockerHost);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'tcp:':
      // The CLI's default ports: 2376 where TLS is on, 2375 where it is not.
      return tls
        ? { host: url.hostname, port: Number(url.port || 2376), protocol: 'https', ca: tls.ca, cert: tls.cert, key: tls.key }
        : { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
    case 'http:':
      return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
    case 'https:':
      return { host: url.hostname, port: Number(url.port || 2376), protocol: 'https' };
    default:
      throw new DrydockError(ErrorCode.VALIDATION_FAILED, `DOCKER_HOST "${dockerHost}": unsupported scheme ${url.protocol}`);
  }
}

/** The facade over the engine: one client per resource, sharing one connection. */
export class DockerEngine {
  readonly images: ImageClient;
  readonly containers: ContainerClient;
  readonly system: SystemOperations;
  private readonly docker: Dockerode;

  constructor(connection: EngineConnection) {
    this.docker = new Dockerode(connectionOptions(connection.dockerHost, connection.tls));
    if (connection.onRequest) observeEngineRequests(this.docker.modem as never, connection.onRequest);
    traceEngineRequests(this.docker.modem as never, connection.name ?? 'default');
    this.images = new ImageOperations(this.docker);
    this.containers = new ContainerOperations(this.docker);
    this.system = new SystemOperations(this.docker);
  }

  /** Checks a login against the registry through the engine (`docker login`), without storing it anywhere. */
  async checkAuth(auth: RegistryAuth): Promise<void> {
    await engineCall('registry', () => this.docker.checkAuth(auth));
  }
}
