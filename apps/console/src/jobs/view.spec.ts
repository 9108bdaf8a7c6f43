import type { JobEvent, JobStep } from '../api/types';
import { applyEvent, emptyView, failingStep, layerTotals, stepDone, type JobView } from './view';

let sequence = 0;
const NOTHING = { state: null, message: null, progress: null, stream: null, layer: null, step: null, result: null, error: null };
function event(fields: Partial<JobEvent>): JobEvent {
  sequence++;
  return { jobId: 'j', sequence, at: new Date(1_700_000_000_000 + sequence * 1000).toISOString(), kind: 'LOG', ...NOTHING, ...fields };
}

/** A step as the subscription sends it: what a builder does not say is null. */
function step(fields: Pick<JobStep, 'index' | 'count' | 'instruction'> & Partial<JobStep>): JobStep {
  return { id: null, name: null, cached: null, startedAt: null, completedAt: null, error: null, ...fields };
}

function replay(events: JobEvent[]): JobView {
  const view = emptyView();
  for (const item of events) applyEvent(view, item);
  return view;
}

beforeEach(() => {
  sequence = 0;
});

describe('replaying job events', () => {
  it('ignores an event it has already applied, as a resubscription replays them again', () => {
    const view = emptyView();
    const first = event({ kind: 'LOG', message: 'once' });
    expect(applyEvent(view, first)).toBe(true);
    expect(applyEvent(view, first)).toBe(false);
    expect(view.lines.map((line) => line.text)).toEqual(['once']);
  });

  it("keeps a layer's size once its last word (Pull complete) no longer carries one", () => {
    const view = replay([
      event({ kind: 'PROGRESS', layer: { id: 'a', status: 'Downloading', current: 50, total: 100 } }),
      event({ kind: 'PROGRESS', layer: { id: 'a', status: 'Pull complete', current: null, total: null } }),
      event({ kind: 'PROGRESS', layer: { id: 'b', status: 'Downloading', current: 10, total: 200 } }),
    ]);
    expect(view.layers.get('a')).toEqual({ id: 'a', status: 'Pull complete', current: 100, total: 100 });
    expect(layerTotals(view)).toEqual({ current: 110, total: 300 });
  });

  it("files BuildKit's `#n` lines under step n, and marks its failing step", () => {
    const view = replay([
      event({ kind: 'PROGRESS', step: step({ index: 1, count: 2, instruction: '[1/2] FROM x', id: 'v1', name: '[1/2] FROM x', cached: true }) }),
      event({ kind: 'PROGRESS', step: step({ index: 2, count: 2, instruction: '[2/2] RUN false', id: 'v2', name: '[2/2] RUN false', startedAt: '2024-01-01T00:00:00Z' }) }),
      event({ kind: 'LOG', message: '#2 it broke', stream: 'STDERR' }),
      event({ kind: 'PROGRESS', step: step({ index: 2, count: 2, instruction: '[2/2] RUN false', id: 'v2', error: 'exit code: 1' }) }),
      event({ kind: 'STATE', state: 'FAILED' }),
    ]);
    expect(view.steps.map((step) => step.name)).toEqual(['[1/2] FROM x', '[2/2] RUN false']);
    expect(view.steps[1]?.lines).toEqual([expect.objectContaining({ text: 'it broke', stderr: true })]);
    expect(failingStep(view)?.key).toBe('v2');
    expect(view.steps[0] && stepDone(view, view.steps[0])).toBe(true);
  });

  it("files the legacy builder's lines under the Step line before them, and blames the last step of a failed build", () => {
    const view = replay([
      event({ kind: 'LOG', message: 'Sending build context' }),
      event({ kind: 'PROGRESS', step: step({ index: 1, count: 2, instruction: 'FROM x' }) }),
      event({ kind: 'PROGRESS', step: step({ index: 2, count: 2, instruction: 'RUN make' }) }),
      event({ kind: 'LOG', message: 'make: *** failed' }),
      event({ kind: 'STATE', state: 'FAILED' }),
    ]);
    expect(view.lines.map((line) => line.text)).toEqual(['Sending build context']);
    expect(view.steps[1]?.lines.map((line) => line.text)).toEqual(['make: *** failed']);
    expect(failingStep(view)?.name).toBe('RUN make');
    expect(view.steps[0] && stepDone(view, view.steps[0])).toBe(true);
  });
});
