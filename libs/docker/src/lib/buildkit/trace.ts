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
