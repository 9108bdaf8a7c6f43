import { ErrorCode, DrydockError } from '@drydock/core';
import { MAX_LINE_BYTES, TRUNCATED_MARK, type BuildkitMessage, type BuildkitVertex, type BuildkitVertexLog } from '@drydock/docker';
import type { JobEmit } from './emitter';
import type { ProgressEmit } from './progress';
import {
  type BuildkitState,
  buildkitCounts,
  describeFailure,
  finishBuildkit,
  initialBuildkit,
  relayBuildkit,
  TAIL_LINES,
  translateBuildkit,
} from './buildkit-progress';

const T0 = '2026-11-29T23:00:00.000Z';
const T1 = '2026-11-29T23:00:01.000Z';
const T2 = '2026-11-29T23:00:02.000Z';
const IMAGE_ID = `sha256:${'9c'.repeat(32)}`;

function vertex(digest: string, name: string, fields: Partial<BuildkitVertex> = {}): BuildkitVertex {
  return { digest, inputs: [], name, cached: false, startedAt: null, completedAt: null, error: null, ...fields };
}

function trace(vertexes: BuildkitVertex[], logs: BuildkitVertexLog[] = [], statuses: Extract<BuildkitMessage, { kind: 'trace' }>['statuses'] = []): BuildkitMessage {
  return { kind: 'trace', vertexes, statuses, logs };
}

function out(vertex: string, text: string | Buffer, stream: 'STDOUT' | 'STDERR' = 'STDOUT'): BuildkitVertexLog {
  return { vertex, stream, data: Buffer.isBuffer(text) ? text : Buffer.from(text) };
}

function run(messages: BuildkitMessage[], finish = true): { state: BuildkitState; emits: ProgressEmit[] } {
  let state = initialBuildkit();
  const emits: ProgressEmit[] = [];
  for (const message of messages) {
    const [next, more] = translateBuildkit(state, message);
    state = next;
    emits.push(...more);
  }
  if (finish) {
    const [next, more] = finishBuildkit(state);
    state = next;
    emits.push(...more);
  }
  return { state, emits };
}

const steps = (emits: ProgressEmit[]) => emits.flatMap((e) => (e.kind === 'step' ? [e] : []));
const logs = (emits: ProgressEmit[]) => emits.flatMap((e) => (e.kind === 'log' ? [e] : []));

/** Two independent stages (`a`, `b`) then a final stage copying from both, as BuildKit runs them: interleaved. */
const MULTI_STAGE: BuildkitMessage[] = [
  trace([vertex('base', '[internal] load metadata for localhost:5001/drydock-fixture/busybox:1', { startedAt: T0 })]),
  trace([vertex('base', '[internal] load metadata for localhost:5001/drydock-fixture/busybox:1', { startedAt: T0, completedAt: T0 })]),
  trace([vertex('a1', '[a 1/2] RUN echo a', { startedAt: T0 }), vertex('b1', '[b 1/2] RUN echo b', { startedAt: T0 })]),
  trace([], [out('a1', 'a-out\n'), out('b1', 'b-out\n')]),
  trace([vertex('a1', '[a 1/2] RUN echo a', { startedAt: T0, completedAt: T1 })]),
  trace([vertex('b1', '[b 1/2] RUN echo b', { startedAt: T0, completedAt: T1 })]),
  trace([vertex('final', '[stage-2 2/2] COPY --from=a /a /a', { startedAt: T1, completedAt: T2 })]),
  { kind: 'image', id: IMAGE_ID },
];

describe('translateBuildkit', () => {
  it('reports one step per vertex at its first sight and at each change, numbered in the order first seen', () => {
    const { emits, state } = run(MULTI_STAGE);
    expect(steps(emits).map((e) => e.message)).toEqual([
      '#1 [internal] load metadata for localhost:5001/drydock-fixture/busybox:1',
      '#1 DONE',
      '#2 [a 1/2] RUN echo a',
      '#3 [b 1/2] RUN echo b',
      '#2 DONE',
      '#3 DONE',
      '#4 [stage-2 2/2] COPY --from=a /a /a DONE',
    ]);
    expect(steps(emits)[2]?.step).toEqual({
      index: 2, count: 3, instruction: '[a 1/2] RUN echo a', id: 'a1', name: '[a 1/2] RUN echo a',
      cached: false, startedAt: T0, completedAt: null, error: null,
    });
    expect(state.imageId).toBe(IMAGE_ID);
    expect(buildkitCounts(state)).toEqual({ steps: 4, cachedSteps: 0 });
  });

  it('gives progress as completed vertices over known vertices, as of the end of each message', () => {
    const { emits } = run(MULTI_STAGE);
    expect(steps(emits).map((e) => e.progress)).toEqual([0, 1, 1 / 3, 1 / 3, 2 / 3, 1, 1]);
  });

  it('says nothing when BuildKit repeats a vertex unchanged, and keeps what an emptier repeat leaves out', () => {
    const started = vertex('a1', '[a 1/2] RUN echo a', { startedAt: T0 });
    const { emits, state } = run([trace([started]), trace([started]), trace([vertex('a1', '', {})])]);
    expect(steps(emits)).toHaveLength(1);
    expect(state.vertices.get('a1')).toMatchObject({ name: '[a 1/2] RUN echo a', startedAt: T0 });
  });

  it('counts a cached rebuild: every step CACHED', () => {
    const { emits, state } = run([
      trace([vertex('a1', '[a 1/2] RUN echo a', { cached: true, startedAt: T0, completedAt: T0 })]),
      trace([vertex('b1', '[b 1/2] RUN echo b', { cached: true, startedAt: T0, completedAt: T0 })]),
    ]);
    expect(steps(emits).map((e) => e.message)).toEqual(['#1 [a 1/2] RUN echo a CACHED', '#2 [b 1/2] RUN echo b CACHED']);
    expect(steps(emits).every((e) => e.step.cached)).toBe(true);
    expect(buildkitCounts(state)).toEqual({ steps: 2, cachedSteps: 2 });
  });

  it('prefixes each output line with its step index and keeps its stream', () => {
    const { emits } = run(MULTI_STAGE);
    expect(logs(emits)).toEqual([
      { kind: 'log', message: '#2 a-out', stream: 'STDOUT' },
      { kind: 'log', message: '#3 b-out', stream: 'STDOUT' },
    ]);
  });

  it('joins lines split across messages per vertex, interleaved vertices and streams each keeping their own partial line', () => {
    const { emits } = run([
      trace([vertex('a', '[a 1/1] RUN x', { startedAt: T0 }), vertex('b', '[b 1/1] RUN y', { startedAt: T0 })]),
      trace([], [out('a', 'hel'), out('b', 'wor'), out('a', 'oops', 'STDERR')]),
      trace([], [out('b', 'ld\nsecond'), out('a', 'lo\n'), out('a', '!\n', 'STDERR')]),
      trace([], [out('b', ' line\r\n')]),
      // A character cut between two messages stays whole.
      trace([], [out('a', Buffer.from('é\n').subarray(0, 1)), out('a', Buffer.from('é\n').subarray(1))]),
    ]);
    expect(logs(emits).map((e) => `${e.stream} ${e.message}`)).toEqual([
      'STDOUT #2 world',
      'STDOUT #1 hello',
      'STDERR #1 oops!',
      'STDOUT #2 second line',
      'STDOUT #1 é',
    ]);
  });

  it('ends a finished step\'s last line without its newline when the step completes, not at the end of the build', () => {
    const { emits } = run([
      trace([vertex('a', '[a 1/1] RUN x', { startedAt: T0 })], [out('a', 'no newline')]),
      trace([vertex('a', '[a 1/1] RUN x', { startedAt: T0, completedAt: T1 })]),
      trace([vertex('b', '[b 1/1] RUN y', { startedAt: T1 })]),
    ], false);
    expect(emits.map((e) => e.kind === 'log' ? e.message : e.kind)).toEqual(['step', 'step', '#1 no newline', 'step']);
  });

  it('ends a last line without its newline at the end of the trace', () => {
    const { emits } = run([trace([vertex('a', '[a 1/1] RUN x')], [out('a', 'no newline')])]);
    expect(logs(emits).map((e) => e.message)).toEqual(['#1 no newline']);
  });

  it('cuts a huge line at the cap, holding no more than the cap, and drops the rest of it up to its newline', () => {
    const chunk = 'x'.repeat(MAX_LINE_BYTES / 2);
    const messages = [trace([vertex('a', '[a 1/1] RUN yes')])];
    for (let i = 0; i < 5; i++) messages.push(trace([], [out('a', chunk)]));
    messages.push(trace([], [out('a', 'tail\nnext\n')]));
    const { emits, state } = run(messages);
    const lines = logs(emits).map((e) => e.message);
    expect(lines).toHaveLength(2);
    expect(Buffer.byteLength(lines[0] ?? '')).toBeLessThanOrEqual(MAX_LINE_BYTES + 3);
    expect(lines[0]?.endsWith(TRUNCATED_MARK)).toBe(true);
    expect(lines[1]).toBe('#1 next');
    // The failure ring keeps short copies.
    expect(Math.max(...(state.vertices.get('a')?.tail ?? []).map((l) => l.length))).toBeLessThanOrEqual(1024);
  });

  it('reports layer transfers as PROGRESS with the layer, a status done once completed', () => {
    const { emits } = run([
      trace([vertex('from', '[1/2] FROM x', { startedAt: T0 })], [], [
        { id: 'sha256:aa', vertex: 'from', name: 'resolve', current: 10, total: 100, startedAt: T0, completedAt: null },
        { id: 'context', vertex: 'from', name: 'transferring', current: 5, total: 0, startedAt: T0, completedAt: T1 },
      ]),
    ]);
    expect(emits.filter((e) => e.kind === 'progress')).toEqual([
      { kind: 'progress', progress: 0, layer: { id: 'sha256:aa', status: 'resolve', current: 10, total: 100 } },
      { kind: 'progress', progress: 0, layer: { id: 'context', status: 'transferring done', current: 5, total: null } },
    ]);
  });

  it('names the failing step with its error and its last output lines', () => {
    const lines = Array.from({ length: TAIL_LINES + 5 }, (_, i) => `line ${i}\n`).join('');
    const { emits, state } = run([
      trace([vertex('ok', '[build 1/3] FROM busybox', { startedAt: T0, completedAt: T0 })]),
      trace([vertex('bad', '[build 2/3] RUN false', { startedAt: T0 })], [out('bad', lines)]),
      trace([vertex('bad', '[build 2/3] RUN false', { startedAt: T0, completedAt: T1, error: 'process "/bin/sh -c false" did not complete successfully: exit code: 1' })]),
    ]);
    expect(steps(emits).at(-1)?.message).toBe('#2 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1');
    expect(steps(emits).at(-1)?.step.error).toMatch(/exit code: 1/);
    const description = describeFailure(state) ?? '';
    expect(description.split('\n')[0]).toBe('[build 2/3] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1');
    expect(description.split('\n').slice(1)).toEqual(Array.from({ length: TAIL_LINES }, (_, i) => `line ${i + 5}`));
  });
});

function recorder(congested = false) {
  const calls: string[] = [];
  let drains = 0;
  const emit: JobEmit = {
    log: (m, s) => void calls.push(`log ${s ?? '-'} ${m}`),
    progress: (p) => void calls.push(`progress ${p}`),
    step: (_s, m, p) => void calls.push(`step ${p} ${m}`),
    drain: async () => void drains++,
    congested,
  };
  return { emit, calls, drains: () => drains };
}

async function* from(messages: BuildkitMessage[], failure?: Error): AsyncGenerator<BuildkitMessage> {
  for (const message of messages) yield message;
  if (failure) throw failure;
}

describe('relayBuildkit', () => {
  it('relays the trace, waits while the emitter is congested, and counts the steps', async () => {
    const { emit, calls, drains } = recorder(true);
    await expect(relayBuildkit(from(MULTI_STAGE), emit)).resolves.toEqual({ imageId: IMAGE_ID, steps: 4, cachedSteps: 0 });
    expect(calls).toContain('log STDOUT #2 a-out');
    expect(calls).toContain('step 1 #4 [stage-2 2/2] COPY --from=a /a /a DONE');
    expect(drains()).toBe(MULTI_STAGE.length);
  });

  it('turns the engine failure of a step into BUILD_FAILED naming it, with its output', async () => {
    const { emit } = recorder();
    const failing = [
      trace([vertex('bad', '[build 2/3] RUN false', { startedAt: T0 })], [out('bad', 'about to fail')]),
      trace([vertex('bad', '[build 2/3] RUN false', { startedAt: T0, completedAt: T1, error: 'exit code: 1' })]),
    ];
    const done = relayBuildkit(from(failing, new DrydockError(ErrorCode.BUILD_FAILED, 'failed to solve: exit code: 1')), emit);
    await expect(done).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED, message: '[build 2/3] RUN false: exit code: 1\nabout to fail' });
  });

  it('fails a trace that ends with a failed step even if the engine said nothing', async () => {
    const { emit } = recorder();
    const failing = [trace([vertex('bad', '[build 2/3] RUN false', { error: 'exit code: 1' })])];
    await expect(relayBuildkit(from(failing), emit)).rejects.toMatchObject({ code: ErrorCode.BUILD_FAILED, message: '[build 2/3] RUN false: exit code: 1' });
  });

  it("classifies a registry's 401 as REGISTRY_UNAUTHORIZED", async () => {
    const { emit } = recorder();
    const refused = [
      trace([vertex('meta', '[internal] load metadata for localhost:5002/team-a/base:1', {
        error: 'failed to authorize: rpc error: code = Unknown desc = failed to fetch oauth token: unexpected status: 401 Unauthorized',
      })]),
    ];
    const failure = new DrydockError(ErrorCode.BUILD_FAILED, 'failed to solve with frontend dockerfile.v0: failed to create LLB definition: unexpected status: 401 Unauthorized');
    await expect(relayBuildkit(from(refused, failure), emit)).rejects.toMatchObject({ code: ErrorCode.REGISTRY_UNAUTHORIZED });
  });

  it('passes a cancel through as it is', async () => {
    const { emit } = recorder();
    const failing = [trace([vertex('run', '[build 2/3] RUN sleep 60', { startedAt: T0, error: 'context canceled' })])];
    await expect(relayBuildkit(from(failing, new DrydockError(ErrorCode.CANCELLED, 'cancelled')), emit)).rejects.toMatchObject({ code: ErrorCode.CANCELLED });
  });
});
