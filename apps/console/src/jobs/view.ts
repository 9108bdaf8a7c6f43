import { TERMINAL, type JobError, type JobEvent, type JobLayer, type JobResult, type JobState, type JobStep } from '../api/types';

/** What a job's events add up to, built by replaying them in sequence; mutated in place, rendered by version. */
export interface LogLine {
  sequence: number;
  text: string;
  stderr: boolean;
}

export interface StepView {
  key: string;
  index: number;
  name: string;
  cached: boolean;
  error: string | null;
  startedAt: string | null;
  completedAt: string | null;
  /** When the step's first event arrived: a legacy build's steps carry no times of their own. */
  firstSeenAt: string;
  lines: LogLine[];
}

export interface JobView {
  lastSequence: number;
  state: JobState | null;
  progress: number | null;
  layers: Map<string, JobLayer>;
  steps: StepView[];
  /** Lines that belong to no step (a pull's milestones, a build's preamble). */
  lines: LogLine[];
  error: JobError | null;
  result: JobResult | null;
  /** Lines not kept past MAX_LINES: a flood of output must not take the tab down. */
  droppedLines: number;
  keptLines: number;
}

export const MAX_LINES = 20_000;

export function emptyView(): JobView {
  return { lastSequence: 0, state: null, progress: null, layers: new Map(), steps: [], lines: [], error: null, result: null, droppedLines: 0, keptLines: 0 };
}

export const isTerminal = (state: JobState | null | undefined) => state !== null && state !== undefined && TERMINAL.includes(state);

/** `#3 some output`: BuildKit's lines name their step by index. */
const BUILDKIT_LINE = /^#(\d+) (.*)$/;

function stepKey(step: JobStep): string {
  return step.id ?? `step-${step.index}`;
}

function applyStep(view: JobView, step: JobStep, at: string): void {
  const key = stepKey(step);
  let found = view.steps.find((candidate) => candidate.key === key);
  if (!found) {
    found = { key, index: step.index, name: step.name || step.instruction, cached: false, error: null, startedAt: null, completedAt: null, firstSeenAt: at, lines: [] };
    view.steps.push(found);
  }
  if (step.name) found.name = step.name;
  found.cached = step.cached ?? found.cached;
  found.error = step.error ?? found.error;
  found.startedAt = step.startedAt ?? found.startedAt;
  found.completedAt = step.completedAt ?? found.completedAt;
}

function addLine(view: JobView, event: JobEvent): void {
  const text = event.message ?? '';
  if (view.keptLines >= MAX_LINES) {
    view.droppedLines++;
    return;
  }
  view.keptLines++;
  const line = { sequence: event.sequence, text, stderr: event.stream === 'STDERR' };
  const tagged = BUILDKIT_LINE.exec(text);
  const byIndex = tagged ? view.steps.find((step) => step.index === Number(tagged[1]) && !step.key.startsWith('step-')) : undefined;
  if (byIndex && tagged) {
    byIndex.lines.push({ ...line, text: tagged[2] ?? '' });
    return;
  }
  // The legacy builder's output follows the `Step n/m` line it belongs to.
  const last = view.steps[view.steps.length - 1];
  if (last && last.key.startsWith('step-')) last.lines.push(line);
  else view.lines.push(line);
}

const LAYER_DONE = /complete|Pushed|already exists|Mounted from/i;

/** A layer's last word on its status, with the size it told earlier: `Pull complete` carries no byte counts. */
function mergeLayer(view: JobView, layer: JobLayer): void {
  const previous = view.layers.get(layer.id);
  const total = layer.total ?? previous?.total ?? null;
  const current = LAYER_DONE.test(layer.status) ? total : (layer.current ?? previous?.current ?? null);
  view.layers.set(layer.id, { id: layer.id, status: layer.status, current, total });
}

/** Applies one event; an event already seen (a replay after a reconnect) changes nothing. */
export function applyEvent(view: JobView, event: JobEvent): boolean {
  if (event.sequence <= view.lastSequence) return false;
  view.lastSequence = event.sequence;
  if (event.progress !== undefined && event.progress !== null) view.progress = event.progress;
  if (event.state) view.state = event.state;
  if (event.layer) mergeLayer(view, event.layer);
  if (event.step) applyStep(view, event.step, event.at);
  if (event.error) view.error = event.error;
  if (event.result) view.result = event.result;
  if (event.kind === 'LOG' || (event.kind === 'ERROR' && event.message)) addLine(view, event);
  return true;
}

/** The step that failed: the one BuildKit marked, else (legacy) the last one of a failed build. */
export function failingStep(view: JobView): StepView | undefined {
  const marked = view.steps.find((step) => step.error);
  if (marked) return marked;
  return view.state === 'FAILED' ? view.steps[view.steps.length - 1] : undefined;
}

/** Done when BuildKit says so, or (legacy) once a later step began or the job ended. */
export function stepDone(view: JobView, step: StepView): boolean {
  if (step.completedAt || step.cached) return true;
  if (!step.key.startsWith('step-')) return false;
  return view.steps[view.steps.length - 1] !== step || isTerminal(view.state);
}

export function stepSeconds(view: JobView, step: StepView, now: number): number | null {
  if (step.startedAt) return ((step.completedAt ? Date.parse(step.completedAt) : now) - Date.parse(step.startedAt)) / 1000;
  if (!step.key.startsWith('step-')) return null;
  const next = view.steps[view.steps.indexOf(step) + 1];
  const end = next ? Date.parse(next.firstSeenAt) : isTerminal(view.state) ? null : now;
  return end === null ? null : (end - Date.parse(step.firstSeenAt)) / 1000;
}

/** Bytes done and to do over the layers whose size is known: the totals line under the bars. */
export function layerTotals(view: JobView): { current: number; total: number } {
  let current = 0;
  let total = 0;
  for (const layer of view.layers.values()) {
    if (!layer.total) continue;
    total += layer.total;
    current += Math.min(layer.current ?? 0, layer.total);
  }
  return { current, total };
}
