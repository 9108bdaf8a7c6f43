/**
 * The job vocabulary of the API contract ("Long operations are jobs"). The
 * enum values are the wire strings of REST and GraphQL alike, so they are
 * never renamed.
 */
export enum JobType {
  PULL = 'PULL',
  PUSH = 'PUSH',
  BUILD = 'BUILD',
  RUN = 'RUN',
  EXPORT = 'EXPORT',
}

export enum JobState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

export enum JobEventKind {
  STATE = 'STATE',
  LOG = 'LOG',
  PROGRESS = 'PROGRESS',
  RESULT = 'RESULT',
  ERROR = 'ERROR',
}

export const JOB_TYPES: readonly JobType[] = Object.values(JobType);

export interface JobResult {
  imageId?: string;
  digest?: string;
  tags?: string[];
  containerId?: string;
  exitCode?: number;
  /** EXPORT: the size of the tar kept for download. */
  artifactBytes?: number;
  /** BUILD on BuildKit: the steps (vertices) the build ran, and how many of them came from cache. */
  steps?: number;
  cachedSteps?: number;
}

export interface JobError {
  code: string;
  message: string;
}

export interface JobRecord {
  id: string;
  type: JobType;
  state: JobState;
  /** 0..1, or null while unknown. */
  progress: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  request: Record<string, unknown>;
  result: JobResult | null;
  error: JobError | null;
  team: string | null;
  owner: string | null;
  /** Attempts started so far (retries of transient failures included). */
  attempts: number;
  /** The job's time limit, the type's or a lower one the request asked for; absent on jobs queued before limits existed. */
  timeoutSeconds?: number | null;
  /** The engine the job runs on (its queues are that engine's); absent on jobs queued before there were several. */
  engine?: string | null;
}

/** Per-layer progress of a pull or push, as the engine reports it. */
export interface JobLayer {
  id: string;
  status: string;
  current: number | null;
  total: number | null;
}

/** The stream a LOG line came from, where it came from a process (a container run, a BuildKit step). */
export enum LogStream {
  STDOUT = 'STDOUT',
  STDERR = 'STDERR',
}

/**
 * A build step: `Step 2/4 : RUN make` on the legacy builder. On BuildKit one
 * vertex, with its index in the order vertices were first seen, count the
 * vertices known so far, instruction its name, and the vertex's own fields.
 */
export interface JobStep {
  index: number;
  count: number;
  instruction: string;
  id?: string | null;
  /** As BuildKit prints it: `[build 2/3] RUN npm ci`. */
  name?: string | null;
  cached?: boolean | null;
  startedAt?: string | null;
  completedAt?: string | null;
  error?: string | null;
}

export interface JobEvent {
  jobId: string;
  /** Gapless and 1-based per job: clients resume with the last one they saw. */
  sequence: number;
  at: string;
  kind: JobEventKind;
  state: JobState | null;
  message: string | null;
  progress: number | null;
  layer: JobLayer | null;
  step: JobStep | null;
  /** Set on LOG events that come from a process. */
  stream: LogStream | null;
  /** Set on RESULT events (an addition to the contract's fields). */
  result: JobResult | null;
  /** Set on ERROR events: the code and the engine's or registry's own message. */
  error: JobError | null;
}

/** What a writer supplies; the store assigns jobId, sequence and at. */
export type JobEventInput = Pick<JobEvent, 'kind'> & Partial<Omit<JobEvent, 'jobId' | 'sequence' | 'at' | 'kind'>>;

const TERMINAL: ReadonlySet<JobState> = new Set([JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED]);

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

/** True for the event that closes a job's stream: nothing is ever stored after it. */
export function isTerminalEvent(event: { kind: JobEventKind; state?: JobState | null }): boolean {
  return event.kind === JobEventKind.STATE && event.state != null && isTerminal(event.state);
}
