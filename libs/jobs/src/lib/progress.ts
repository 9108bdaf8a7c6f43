import { capLine, MAX_LINE_BYTES, type EngineMessage } from '@drydock/docker';
import { keepUp, type JobEmit } from './emitter';
import type { JobLayer, JobStep, LogStream } from './model';

/**
 * Translation of the engine's JSON progress streams into job emits, as pure
 * reducers: (state, message) -> [state, emits]. The `relay*` helpers at the
 * bottom drive them over a live stream for a handler.
 */

export type ProgressEmit =
  | { kind: 'log'; message: string; stream?: LogStream }
  | { kind: 'progress'; progress: number | null; layer: JobLayer }
  /** `progress` where the step's own index over count does not say it (BuildKit: completed over known vertices). */
  | { kind: 'step'; step: JobStep; message: string; progress?: number };

interface LayerTally {
  /** Compressed size once the engine reported it; layers without one do not count. */
  total: number | null;
  transferred: number;
  extracted: number;
}

export interface TransferState {
  readonly direction: 'pull' | 'push';
  readonly layers: ReadonlyMap<string, LayerTally>;
  /** Pull: the `Digest:` line; push: `aux.Digest`. */
  readonly digest: string | null;
}

export function initialTransfer(direction: 'pull' | 'push'): TransferState {
  return { direction, layers: new Map(), digest: null };
}

const DIGEST_LINE = /^Digest: (sha256:[0-9a-f]{64})$/;

/** One message of `POST /images/create` (pull) or `POST /images/{name}/push`. */
export function translateTransfer(state: TransferState, message: EngineMessage): [TransferState, ProgressEmit[]] {
  if (message.aux?.Digest) {
    return [{ ...state, digest: message.aux.Digest }, []];
  }
  const status = message.status;
  if (status === undefined) return [state, []];
  // `{"status":"Pulling from library/busybox","id":"latest"}` carries the tag, not a layer.
  if (message.id === undefined || status.startsWith('Pulling from ')) {
    const digest = DIGEST_LINE.exec(status)?.[1];
    const next = digest && state.direction === 'pull' ? { ...state, digest } : state;
    return [next, [{ kind: 'log', message: message.id ? `${message.id}: ${status}` : status }]];
  }
  const layers = new Map(state.layers);
  const tally = advance(state.direction, layers.get(message.id), status, message.progressDetail);
  layers.set(message.id, tally);
  const layer: JobLayer = {
    id: message.id,
    status,
    current: message.progressDetail?.current ?? null,
    total: message.progressDetail?.total ?? null,
  };
  const next = { ...state, layers };
  return [next, [{ kind: 'progress', progress: transferProgress(next), layer }]];
}

function advance(
  direction: 'pull' | 'push',
  previous: LayerTally | undefined,
  status: string,
  detail: EngineMessage['progressDetail'],
): LayerTally {
  const tally: LayerTally = previous ? { ...previous } : { total: null, transferred: 0, extracted: 0 };
  const total = detail?.total !== undefined && detail.total > 0 ? detail.total : null;
  const current = detail?.current;
  switch (status) {
    case 'Downloading':
    case 'Pushing':
      tally.total = total ?? tally.total;
      if (current !== undefined) tally.transferred = current;
      break;
    case 'Verifying Checksum':
    case 'Download complete':
      tally.transferred = tally.total ?? tally.transferred;
      break;
    case 'Extracting':
      // The engine counts extraction against the same compressed size.
      tally.total = total ?? tally.total;
      tally.transferred = tally.total ?? tally.transferred;
      if (current !== undefined) tally.extracted = current;
      break;
    case 'Pull complete':
    case 'Pushed':
      tally.transferred = tally.total ?? tally.transferred;
      tally.extracted = direction === 'pull' ? (tally.total ?? tally.extracted) : 0;
      break;
    default:
      // Pulling fs layer, Waiting, Preparing, Already exists, Layer already exists, Mounted from ...
      break;
  }
  return tally;
}

/**
 * Bytes done over bytes to do, counting only layers whose size is known. A
 * pulled layer is downloaded then extracted, so it weighs twice its size and
 * the bar does not fall back to zero when extraction starts.
 */
export function transferProgress(state: TransferState): number | null {
  const phases = state.direction === 'pull' ? 2 : 1;
  let done = 0;
  let total = 0;
  for (const tally of state.layers.values()) {
    if (tally.total === null) continue;
    total += tally.total * phases;
    done += Math.min(tally.transferred, tally.total) + (phases === 2 ? Math.min(tally.extracted, tally.total) : 0);
  }
  return total > 0 ? done / total : null;
}

export interface BuildState {
  /** `aux.ID` (full `sha256:`), else the short id of `Successfully built`. */
  readonly imageId: string | null;
  /**
   * The unfinished end of the last `stream` message. The engine cuts its
   * messages wherever its buffer ends, mid-line included: a line is only
   * complete at its newline.
   */
  readonly partial: string;
  /** The line being received passed the cap and went out cut: drop the rest of it, up to its newline. */
  readonly skipping: boolean;
}

export function initialBuild(): BuildState {
  return { imageId: null, partial: '', skipping: false };
}

const STEP_LINE = /^Step (\d+)\/(\d+) : (.*)$/;
const BUILT_LINE = /^Successfully built ([0-9a-f]+)$/;

function buildLine(state: BuildState, line: string, emits: ProgressEmit[]): BuildState {
  const step = STEP_LINE.exec(line);
  if (step) {
    emits.push({
      kind: 'step',
      step: { index: Number(step[1]), count: Number(step[2]), instruction: step[3] ?? '' },
      message: line,
    });
    return state;
  }
  emits.push({ kind: 'log', message: line });
  const built = BUILT_LINE.exec(line)?.[1];
  return built && state.imageId === null ? { ...state, imageId: built } : state;
}

/** One message of `POST /build` (the classic builder's stream). */
export function translateBuild(state: BuildState, message: EngineMessage): [BuildState, ProgressEmit[]] {
  let next = state;
  const emits: ProgressEmit[] = [];
  if (message.aux?.ID) next = { ...next, imageId: message.aux.ID };
  if (message.stream !== undefined) {
    const text = next.partial + message.stream;
    const cut = text.lastIndexOf('\n');
    let rest = text.slice(cut + 1);
    if (cut >= 0) {
      const lines = streamLines(text.slice(0, cut + 1));
      if (next.skipping) lines.shift();
      next = { ...next, skipping: false };
      for (const line of lines) next = buildLine(next, capLine(line), emits);
    }
    if (next.skipping) {
      rest = '';
    } else if (rest.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(rest) > MAX_LINE_BYTES) {
      // A line without end must not be held without bound: it goes out cut at the cap.
      next = buildLine({ ...next, skipping: true }, capLine(rest), emits);
      rest = '';
    }
    next = { ...next, partial: rest };
  } else if (message.status !== undefined) {
    // A FROM image being pulled: keep its milestones, skip its byte counters.
    if (message.progressDetail?.total === undefined) {
      emits.push({ kind: 'log', message: message.id ? `${message.id}: ${message.status}` : message.status });
    }
  }
  return [next, emits];
}

/** The end of the build stream: a last line without its newline is still a line. */
export function finishBuild(state: BuildState): [BuildState, ProgressEmit[]] {
  const emits: ProgressEmit[] = [];
  if (!state.partial) return [state, emits];
  const next = buildLine({ ...state, partial: '' }, capLine(state.partial.replace(/\r$/, '')), emits);
  return [next, emits];
}

/** The lines of a `stream` chunk: split on newlines, without the empty one after a final newline. */
export function streamLines(text: string): string[] {
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function applyEmits(emit: JobEmit, emits: readonly ProgressEmit[]): void {
  for (const item of emits) {
    if (item.kind === 'log') emit.log(item.message, item.stream);
    else if (item.kind === 'step') emit.step(item.step, item.message, item.progress);
    else emit.progress(item.progress, item.layer);
  }
}

/** Relays a pull or push stream to the job; resolves with the digest when the stream ends. */
export async function relayTransfer(
  direction: 'pull' | 'push',
  messages: AsyncIterable<EngineMessage>,
  emit: JobEmit,
): Promise<{ digest: string | null }> {
  let state = initialTransfer(direction);
  for await (const message of messages) {
    const [next, emits] = translateTransfer(state, message);
    state = next;
    applyEmits(emit, emits);
    await keepUp(emit);
  }
  return { digest: state.digest };
}

/** Relays a build stream to the job; resolves with the built image's id when the stream ends. */
export async function relayBuild(
  messages: AsyncIterable<EngineMessage>,
  emit: JobEmit,
): Promise<{ imageId: string | null }> {
  let state = initialBuild();
  for await (const message of messages) {
    const [next, emits] = translateBuild(state, message);
    state = next;
    applyEmits(emit, emits);
    await keepUp(emit);
  }
  const [finished, emits] = finishBuild(state);
  applyEmits(emit, emits);
  return { imageId: finished.imageId };
}
