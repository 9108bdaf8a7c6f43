import { DrydockError, ErrorCode, isDrydockError, isTransient } from '@drydock/core';
import { capLine, LineAssembler, type BuildkitMessage, type BuildkitVertex } from '@drydock/docker';
import { keepUp, type JobEmit } from './emitter';
import { LogStream, type JobStep } from './model';
import { applyEmits, type ProgressEmit } from './progress';

/**
 * BuildKit's decoded trace as job emits, in the style of translateBuild:
 * (state, message) -> [state, emits]. Vertex metadata is copied on write; the
 * one thing carried over by reference is each vertex's line assembler (its
 * partial line), which only the next state reads.
 *
 * Log lines go out as `#<index> <line>`, as BuildKit's plain progress prints
 * them: the index is the one on that vertex's step events, so a reader (or a
 * grep) tells which step printed a line without a field of its own.
 */

/** Lines of a vertex kept to describe its failure, and the bytes kept of each. */
export const TAIL_LINES = 10;
export const TAIL_LINE_BYTES = 1024;
/**
 * A hostile build could declare vertices without end: past this, new ones are
 * not followed. With the tail ring, what the trace holds stays near 10 MiB;
 * partial lines are held only for vertices still running.
 */
export const MAX_VERTICES = 1024;

interface VertexTally {
  readonly index: number;
  readonly digest: string;
  /** Empty until the vertex itself arrives (its logs may come first). */
  readonly name: string;
  readonly seen: boolean;
  readonly cached: boolean;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
  readonly lines: { readonly stdout: LineAssembler; readonly stderr: LineAssembler };
  /** The vertex's last output lines, oldest first. */
  readonly tail: readonly string[];
}

export interface BuildkitState {
  readonly vertices: ReadonlyMap<string, VertexTally>;
  readonly completed: number;
  readonly imageId: string | null;
}

export function initialBuildkit(): BuildkitState {
  return { vertices: new Map(), completed: 0, imageId: null };
}

/** What the job's result says of the trace. */
export function buildkitCounts(state: BuildkitState): { steps: number; cachedSteps: number } {
  let steps = 0;
  let cachedSteps = 0;
  for (const vertex of state.vertices.values()) {
    if (!vertex.seen) continue;
    steps++;
    if (vertex.cached) cachedSteps++;
  }
  return { steps, cachedSteps };
}

function progressOf(state: BuildkitState): number {
  const known = state.vertices.size;
  return known > 0 ? state.completed / known : 0;
}

function stepOf(vertex: VertexTally, count: number): JobStep {
  return {
    index: vertex.index,
    count,
    instruction: vertex.name,
    id: vertex.digest,
    name: vertex.name,
    cached: vertex.cached,
    startedAt: vertex.startedAt,
    completedAt: vertex.completedAt,
    error: vertex.error,
  };
}

/** BuildKit's plain progress words for what changed: the name at first sight, then CACHED, DONE or ERROR. */
function stepMessage(previous: VertexTally | undefined, vertex: VertexTally): string {
  const words = previous ? [] : [vertex.name];
  if (vertex.error && vertex.error !== previous?.error) words.push(`ERROR: ${capLine(vertex.error, TAIL_LINE_BYTES)}`);
  else if (vertex.cached && !previous?.cached) words.push('CACHED');
  else if (vertex.completedAt && !previous?.completedAt) words.push('DONE');
  return `#${vertex.index} ${words.length ? words.join(' ') : vertex.name}`;
}

function changed(previous: VertexTally | undefined, vertex: VertexTally): boolean {
  return (
    !previous?.seen ||
    previous.cached !== vertex.cached ||
    previous.startedAt !== vertex.startedAt ||
    previous.completedAt !== vertex.completedAt ||
    previous.error !== vertex.error
  );
}

function blank(digest: string, index: number): VertexTally {
  return {
    index,
    digest,
    name: '',
    seen: false,
    cached: false,
    startedAt: null,
    completedAt: null,
    error: null,
    lines: { stdout: new LineAssembler(), stderr: new LineAssembler() },
    tail: [],
  };
}

/** The tally of `digest`, created at its first sight; undefined past MAX_VERTICES. */
function tallyFor(vertices: Map<string, VertexTally>, digest: string): VertexTally | undefined {
  const known = vertices.get(digest);
  if (known) return known;
  if (vertices.size >= MAX_VERTICES) return undefined;
  const created = blank(digest, vertices.size + 1);
  vertices.set(digest, created);
  return created;
}

function withTail(tail: readonly string[], lines: readonly string[]): string[] {
  return [...tail, ...lines.map((line) => capLine(line, TAIL_LINE_BYTES))].slice(-TAIL_LINES);
}

interface VertexChange {
  previous: VertexTally | undefined;
  vertex: VertexTally;
}

/** Merges one vertex update; answers the change when it is one a step event reports. */
function applyVertex(vertices: Map<string, VertexTally>, update: BuildkitVertex, counters: { completed: number }): VertexChange | null {
  const before = vertices.get(update.digest);
  const tally = tallyFor(vertices, update.digest);
  if (!tally) return null;
  const previous = before?.seen ? before : undefined;
  // A later message may repeat a vertex with fewer fields known: what was known stays.
  const vertex: VertexTally = {
    ...tally,
    seen: true,
    name: update.name || tally.name,
    cached: update.cached || tally.cached,
    startedAt: update.startedAt ?? tally.startedAt,
    completedAt: update.completedAt ?? tally.completedAt,
    error: update.error || tally.error,
  };
  if (!changed(previous, vertex)) return null;
  if (vertex.completedAt && !tally.completedAt) counters.completed++;
  vertices.set(vertex.digest, vertex);
  return { previous, vertex };
}

/** One decoded message of `POST /build?version=2`. */
export function translateBuildkit(state: BuildkitState, message: BuildkitMessage): [BuildkitState, ProgressEmit[]] {
  if (message.kind === 'image') return [{ ...state, imageId: message.id }, []];
  const vertices = new Map(state.vertices);
  const counters = { completed: state.completed };
  const changes: VertexChange[] = [];
  for (const update of message.vertexes) {
    const change = applyVertex(vertices, update, counters);
    if (change) changes.push(change);
  }
  const next: BuildkitState = { ...state, vertices, completed: counters.completed };
  const progress = progressOf(next);
  const emits: ProgressEmit[] = [];
  for (const { previous, vertex } of changes) {
    emits.push({ kind: 'step', step: stepOf(vertex, vertices.size), message: stepMessage(previous, vertex), progress });
  }
  for (const status of message.statuses) {
    emits.push({
      kind: 'progress',
      progress,
      layer: {
        id: status.id,
        status: status.completedAt ? `${status.name} done` : status.name,
        current: status.current,
        total: status.total > 0 ? status.total : null,
      },
    });
  }
  for (const log of message.logs) {
    const tally = tallyFor(vertices, log.vertex);
    if (!tally) continue;
    const assembler = log.stream === 'STDERR' ? tally.lines.stderr : tally.lines.stdout;
    const lines = [...assembler.push(log.data)];
    if (!lines.length) continue;
    vertices.set(tally.digest, { ...tally, tail: withTail(tally.tail, lines) });
    const stream = log.stream === 'STDERR' ? LogStream.STDERR : LogStream.STDOUT;
    for (const line of lines) emits.push({ kind: 'log', message: `#${tally.index} ${line}`, stream });
  }
  // A finished vertex prints no more: its last line without a newline goes out now, not held to the build's end.
  const touched = new Set([...changes.map((change) => change.vertex.digest), ...message.logs.map((log) => log.vertex)]);
  for (const digest of touched) {
    const tally = vertices.get(digest);
    if (tally?.completedAt) flushVertex(vertices, tally, emits);
  }
  return [next, emits];
}

/** Ends a vertex's partial lines as lines of their own. */
function flushVertex(vertices: Map<string, VertexTally>, tally: VertexTally, emits: ProgressEmit[]): void {
  const lines: string[] = [];
  for (const [stream, assembler] of [[LogStream.STDOUT, tally.lines.stdout], [LogStream.STDERR, tally.lines.stderr]] as const) {
    for (const line of assembler.end()) {
      lines.push(line);
      emits.push({ kind: 'log', message: `#${tally.index} ${line}`, stream });
    }
  }
  if (lines.length) vertices.set(tally.digest, { ...tally, tail: withTail(tally.tail, lines) });
}

/** The end of the trace: each vertex's last line without its newline is still a line. */
export function finishBuildkit(state: BuildkitState): [BuildkitState, ProgressEmit[]] {
  const vertices = new Map(state.vertices);
  const emits: ProgressEmit[] = [];
  for (const tally of state.vertices.values()) flushVertex(vertices, tally, emits);
  return [{ ...state, vertices }, emits];
}

/** The first vertex that failed, as `[build 2/3] RUN false: <its error>` and its last output lines; null if none did. */
export function describeFailure(state: BuildkitState): string | null {
  for (const vertex of state.vertices.values()) {
    if (!vertex.error) continue;
    const head = `${vertex.name || vertex.digest}: ${capLine(vertex.error, TAIL_LINE_BYTES)}`;
    return vertex.tail.length ? `${head}\n${vertex.tail.join('\n')}` : head;
  }
  return null;
}

/**
 * What a registry says when the build's login was refused or missing, as
 * BuildKit passes it on (the resolver's `unexpected status: 401
 * Unauthorized`, `failed to authorize`, a registry's `authentication required`).
 */
const UNAUTHORIZED = /\b401 Unauthorized\b|failed to authorize|no basic auth credentials|authentication required|pull access denied/i;

/**
 * A build's failure as the job reports it: a refused login is
 * REGISTRY_UNAUTHORIZED; any other failure of the build names the failing
 * step and ends with its output. Cancel, transient and other domain errors pass.
 */
export function buildkitFailure(state: BuildkitState, error: unknown): unknown {
  if (isDrydockError(error) && (error.code === ErrorCode.CANCELLED || isTransient(error.code))) return error;
  if (isDrydockError(error) && error.code !== ErrorCode.BUILD_FAILED) return error;
  const message = error instanceof Error ? error.message : String(error);
  const step = describeFailure(state);
  if (UNAUTHORIZED.test(message) || (step !== null && UNAUTHORIZED.test(step))) {
    return new DrydockError(ErrorCode.REGISTRY_UNAUTHORIZED, step ?? message, { cause: error });
  }
  if (step === null) return error;
  return new DrydockError(ErrorCode.BUILD_FAILED, step, { cause: error });
}

export interface BuildkitOutcome {
  imageId: string | null;
  steps: number;
  cachedSteps: number;
}

/** Relays a BuildKit trace to the job, waiting when the emitter is congested; a failure names its step. */
export async function relayBuildkit(messages: AsyncIterable<BuildkitMessage>, emit: JobEmit): Promise<BuildkitOutcome> {
  let state = initialBuildkit();
  try {
    for await (const message of messages) {
      const [next, emits] = translateBuildkit(state, message);
      state = next;
      applyEmits(emit, emits);
      await keepUp(emit);
    }
  } catch (error) {
    const [finished, emits] = finishBuildkit(state);
    applyEmits(emit, emits);
    throw buildkitFailure(finished, error);
  }
  const [finished, emits] = finishBuildkit(state);
  applyEmits(emit, emits);
  const failure = describeFailure(finished);
  if (failure !== null) throw buildkitFailure(finished, new DrydockError(ErrorCode.BUILD_FAILED, failure));
  return { imageId: finished.imageId, ...buildkitCounts(finished) };
}
