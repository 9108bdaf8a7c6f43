import Dockerode from 'dockerode';
import { ContainerOperations, type ContainerClient } from './containers';
import { DrydockError, ErrorCode } from '@drydock/core';
import { ImageOperations, type ImageClient } from './images';
import { SystemOperations } from './system';
import type { RegistryAuth } from './types';
import { engineCall } from './engine-errors';

export interface EngineConnection {
  /** `unix:///var/run/docker.sock` or `tcp://host:port`. */
  dockerHost: string;
}

/** Turns DOCKER_HOST into dockerode's connection options. */
export function connectionOptions(dockerHost: string): Dockerode.DockerOptions {
  const url = new URL(dockerHost);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: url.pathname };
    case 'tcp:':
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
    this.docker = new Dockerode(connectionOptions(connection.dockerHost));
    this.images = new ImageOperations(this.docker);
    this.containers = new ContainerOperations(this.docker);
    this.system = new SystemOperations(this.docker);
  }

  /** Checks a login against the registry through the engine (`docker login`), without storing it anywhere. */
  async checkAuth(auth: RegistryAuth): Promise<void> {
    await engineCall('registry', () => this.docker.checkAuth(auth));
  }
}
