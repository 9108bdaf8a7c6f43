/** The API's shapes as the console reads them (API.md); swapped for @drydock/client's generated types later. */

export type Role = 'viewer' | 'builder' | 'admin';
export interface Me {
  name: string;
  team: string;
  role: Role;
  namespaces: string[];
}

export interface RepoTag {
  repository: string;
  tag: string;
}
export interface Image {
  id: string;
  shortId: string;
  repoTags: RepoTag[];
  repoDigests: Array<{ repository: string; digest: string }>;
  created: string;
  size: number;
  labels: Array<{ key: string; value: string }>;
  architecture: string;
  os: string;
  author: string;
  comment: string;
  config: { cmd?: string[] | null; entrypoint?: string[] | null; env?: string[] | null; workingDir?: string | null; user?: string | null; exposedPorts?: string[] | null };
  containers: number;
  engines?: string[];
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
export interface Engine {
  name: string;
  version: string | null;
  healthy: boolean;
  images: number | null;
  runningJobs: number | null;
  waitingJobs: number | null;
}

export type JobType = 'PULL' | 'PUSH' | 'BUILD' | 'RUN' | 'EXPORT';
export type JobState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const JOB_TYPES: JobType[] = ['PULL', 'PUSH', 'BUILD', 'RUN', 'EXPORT'];
export const JOB_STATES: JobState[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const TERMINAL: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface JobResult {
  imageId?: string | null;
  digest?: string | null;
  tags?: string[] | null;
  containerId?: string | null;
  exitCode?: number | null;
  artifactBytes?: number | null;
  steps?: number | null;
  cachedSteps?: number | null;
}
export interface JobError {
  code: string;
  message: string;
}
export interface Job {
  id: string;
  type: JobType;
  state: JobState;
  progress: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  request: Record<string, unknown>;
  result: JobResult | null;
  error: JobError | null;
  team: string | null;
  engine?: string | null;
  position?: number | null;
}

export interface JobLayer {
  id: string;
  status: string;
  current: number | null;
  total: number | null;
}
export interface JobStep {
  index: number;
  count: number;
  instruction: string;
  id?: string | null;
  name?: string | null;
  cached?: boolean | null;
  startedAt?: string | null;
  completedAt?: string | null;
  error?: string | null;
}
export type JobEventKind = 'STATE' | 'LOG' | 'PROGRESS' | 'RESULT' | 'ERROR';
export interface JobEvent {
  jobId: string;
  sequence: number;
  at: string;
  kind: JobEventKind;
  state?: JobState | null;
  message?: string | null;
  progress?: number | null;
  layer?: JobLayer | null;
  step?: JobStep | null;
  stream?: 'STDOUT' | 'STDERR' | null;
  error?: JobError | null;
  result?: JobResult | null;
}

export interface BuildRequest {
  dockerfile: string;
  tags: string[];
  buildArgs?: Record<string, string>;
  secrets?: string[];
  engine?: string;
}
export interface BuildTarOptions {
  tags: string[];
  buildArgs?: Record<string, string>;
  secrets?: string[];
  dockerfile?: string;
  engine?: string;
}
