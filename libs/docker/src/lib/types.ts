/** Domain types of the engine adapter. Nothing outside libs/docker sees a dockerode type. */
import type { Builder } from './buildkit/trace';

export interface RepoTag {
  repository: string;
  tag: string;
}

export interface RepoDigest {
  repository: string;
  digest: string;
}

export interface Label {
  key: string;
  value: string;
}

export interface ImageConfig {
  cmd: string[] | null;
  entrypoint: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
  exposedPorts: string[];
}

export interface Image {
  id: string;
  shortId: string;
  repoTags: RepoTag[];
  repoDigests: RepoDigest[];
  created: string;
  size: number;
  labels: Label[];
  architecture: string;
  os: string;
  author: string;
  comment: string;
  config: ImageConfig;
  /** How many containers (running or not) use this image. */
  containers: number;
}

export interface ImageLayer {
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
  tags: string[];
}

export interface RemoveImageResult {
  untagged: string[];
  deleted: string[];
}

export interface PruneResult {
  deleted: string[];
  spaceReclaimed: number;
}

export interface SearchResult {
  name: string;
  description: string;
  stars: number;
  official: boolean;
  automated: boolean;
  registry: string;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  architecture: string;
  kernelVersion: string;
  images: number;
  containers: number;
  containersRunning: number;
  storageDriver: string;
  rootDir: string;
  /** The builders this engine runs builds with: BuildKit from API 1.39 on Linux, the legacy one always. */
  builders: Builder[];
}

export type ImageEventAction = 'pull' | 'push' | 'tag' | 'untag' | 'delete' | 'import' | 'save' | 'load' | 'build';

export interface ImageEvent {
  action: string;
  /** The engine's actor id: an image id or a reference, as the engine reports it. */
  id: string;
  /** The reference the event names ('name' attribute), when there is one. */
  reference: string | null;
  at: string;
}

export interface ContainerEvent {
  action: string;
  id: string;
  image: string | null;
  at: string;
}

export type EngineEvent = { type: 'image'; event: ImageEvent } | { type: 'container'; event: ContainerEvent };

/** Credentials for one registry, as the engine's X-Registry-Auth wants them. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}
