import type { ContextUpload } from './context-source';
import type { BuildOptions } from '../images';

/**
 * BuildKit's build trace as Drydock reads it: the `moby.buildkit.trace` aux
 * messages of `POST /build?version=2` decoded from protobuf (`StatusResponse`
 * of BuildKit's api/services/control/control.proto) into plain objects, byte
 * fields decoded, times as ISO strings.
 */

/** Which builder runs a build: BuildKit where the engine has it, the legacy one on request. */
export enum Builder {
  BUILDKIT = 'BUILDKIT',
  LEGACY = 'LEGACY',
}

/** One vertex of the solve graph (a Dockerfile step, a context transfer, a metadata load). */
export interface BuildkitVertex {
  digest: string;
  inputs: string[];
  /** As BuildKit prints it: `[build 2/3] RUN npm ci`. */
  name: string;
  cached: boolean;
  startedAt: string | null;
  completedAt: string | null;
  error: string | null;
}

/** Byte or item progress inside a vertex (a layer download, a context transfer). */
export interface BuildkitVertexStatus {
  id: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  startedAt: string | null;
  completedAt: string | null;
}

/** Output of a vertex's process; `data` may end mid-line. */
export interface BuildkitVertexLog {
  vertex: string;
  stream: 'STDOUT' | 'STDERR';
  data: Buffer;
}

/** What a BuildKit build yields, in the engine's order. */
export type BuildkitMessage =
  | { kind: 'trace'; vertexes: BuildkitVertex[]; statuses: BuildkitVertexStatus[]; logs: BuildkitVertexLog[] }
  /** `aux` of `moby.image.id`: the built image. */
  | { kind: 'image'; id: string };

/** A registry login BuildKit's session auth provider hands out, for the one host it asked about. */
export interface BuildkitLogin {
  username: string;
  password: string;
}

/**
 * A BuildKit build: the legacy options where they mean the same (its `signal`
 * cancels at the engine, POST /build/cancel, and closes the session), plus what
 * only BuildKit has. Credentials and secrets are asked for lazily, by host and
 * by id, as BuildKit's session asks for them: nothing is sent that no step uses.
 */
export interface BuildkitOptions
  extends Pick<BuildOptions, 'dockerfile' | 'buildArgs' | 'target' | 'labels' | 'noCache' | 'pull' | 'platform' | 'signal'> {
  /** Images whose inline cache the build may reuse. */
  cacheFrom?: string[];
  /** Writes the cache metadata into the image (BUILDKIT_INLINE_CACHE), so a pushed image serves as a cache source. */
  inlineCache?: boolean;
  /** The session's auth provider: a login for `host` (`localhost:5002`, `docker.io`), or null for anonymous. */
  login?: (host: string) => Promise<BuildkitLogin | null>;
  /** The session's secrets provider: the secret's bytes, or null when there is none by that id. */
  secret?: (id: string) => Promise<Buffer | null>;
  /**
   * The context as a plain tar file on disk: served through the session's
   * FileSync, as the docker CLI sends a directory, instead of as the body.
   * A tar it cannot serve as the engine would unpack it (gzipped, too many
   * entries, an unusual entry) is sent as the body, from `context`.
   */
  contextFile?: string;
  /**
   * The upload behind `contextFile`. While it is still `receiving` (the
   * client sent its context in walk order), FileSync serves the file as it
   * grows, and the build ends only once the upload is whole: an upload
   * refused on the way fails the build with the upload's error.
   */
  contextUpload?: ContextUpload;
}
