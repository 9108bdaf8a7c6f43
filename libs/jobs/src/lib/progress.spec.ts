import { MAX_LINE_BYTES, TRUNCATED_MARK, type EngineMessage } from '@drydock/docker';
import type { JobEmit } from './emitter';
import type { JobLayer, JobStep } from './model';
import {
  type ProgressEmit,
  initialBuild,
  initialTransfer,
  relayBuild,
  relayTransfer,
  streamLines,
  translateBuild,
  translateTransfer,
} from './progress';

const DIGEST = `sha256:${'4f'.repeat(32)}`;
const IMAGE_ID = `sha256:${'9c'.repeat(32)}`;

/** `docker pull localhost:5001/team/app:1`: one layer already present, two downloaded. */
const PULL: EngineMessage[] = [
  { status: 'Pulling from team/app', id: '1' },
  { status: 'Already exists', progressDetail: {}, id: '0f1e2d3c4b5a' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '9a8b7c6d5e4f' },
  { status: 'Waiting', progressDetail: {}, id: '9a8b7c6d5e4f' },
  {
    status: 'Downloading',
    progressDetail: { current: 32768, total: 100000 },
    progress: '[====>  ]  32.77kB/100kB',
    id: 'a1b2c3d4e5f6',
  },
  {
    status: 'Downloading',
    progressDetail: { current: 100000, total: 100000 },
    progress: '[======>]    100kB/100kB',
    id: 'a1b2c3d4e5f6',
  },
  { status: 'Verifying Checksum', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  { status: 'Download complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  {
    status: 'Downloading',
    progressDetail: { current: 50000, total: 300000 },
    progress: '[=>     ]     50kB/300kB',
    id: '9a8b7c6d5e4f',
  },
  {
    status: 'Extracting',
    progressDetail: { current: 65536, total: 100000 },
    progress: '[====>  ]  65.54kB/100kB',
    id: 'a1b2c3d4e5f6',
  },
  {
    status: 'Extracting',
    progressDetail: { current: 100000, total: 100000 },
    progress: '[======>]    100kB/100kB',
    id: 'a1b2c3d4e5f6',
  },
  { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
  {
    status: 'Downloading',
    progressDetail: { current: 300000, total: 300000 },
    progress: '[======>]    300kB/300kB',
    id: '9a8b7c6d5e4f',
  },
  { status: 'Verifying Checksum', progressDetail: {}, id: '9a8b7c6d5e4f' },
  { status: 'Download complete', progressDetail: {}, id: '9a8b7c6d5e4f' },
  {
    status: 'Extracting',
    progressDetail: { current: 300000, total: 300000 },
    progress: '[======>]    300kB/300kB',
    id: '9a8b7c6d5e4f',
  },
  { status: 'Pull complete', progressDetail: {}, id: '9a8b7c6d5e4f' },
  { status: `Digest: ${DIGEST}` },
  { status: 'Status: Downloaded newer image for localhost:5001/team/app:1' },
];

/** `docker push localhost:5001/team/app:1`: the base layer is already there. */
const PUSH: EngineMessage[] = [
  { status: 'The push refers to repository [localhost:5001/team/app]' },
  { status: 'Preparing', progressDetail: {}, id: '5f70bf18a086' },
  { status: 'Preparing', progressDetail: {}, id: 'e2eb06d8af82' },
  { status: 'Waiting', progressDetail: {}, id: 'e2eb06d8af82' },
  { status: 'Layer already exists', progressDetail: {}, id: '5f70bf18a086' },
  {
    status: 'Pushing',
    progressDetail: { current: 512, total: 2048 },
    progress: '[===>    ]     512B/2.048kB',
    id: 'e2eb06d8af82',
  },
  {
    status: 'Pushing',
    progressDetail: { current: 2048, total: 2048 },
    progress: '[=======>]  2.048kB/2.048kB',
    id: 'e2eb06d8af82',
  },
  { status: 'Pushed', progressDetail: {}, id: 'e2eb06d8af82' },
  { status: `1: digest: ${DIGEST} size: 739` },
  { progressDetail: {}, aux: { Tag: '1', Digest: DIGEST, Size: 739 } },
];

/** The classic builder's `POST /build` stream for a four-step Dockerfile. */
const BUILD: EngineMessage[] = [
  { stream: 'Step 1/4 : FROM localhost:5001/drydock-fixture/busybox:1' },
  { stream: '\n' },
  { stream: ' ---> 3f57d9401f8d\n' },
  { stream: 'Step 2/4 : RUN echo hello && echo world' },
  { stream: '\n' },
  { stream: ' ---> Running in 0a1b2c3d4e5f\n' },
  { stream: 'hello\nworld\n' },
  { stream: 'Removing intermediate container 0a1b2c3d4e5f\n' },
  { stream: ' ---> 7d9e3c2b1a0f\n' },
  { stream: 'Step 3/4 : LABEL team=platform' },
  { stream: '\n' },
  { stream: ' ---> Running in 1b2c3d4e5f6a\n' },
  { stream: 'Removing intermediate container 1b2c3d4e5f6a\n' },
  { stream: ' ---> 5e6f7a8b9c0d\n' },
  { stream: 'Step 4/4 : CMD ["sh"]' },
  { stream: '\n' },
  { stream: ' ---> Running in 2c3d4e5f6a7b\n' },
  { stream: 'Removing intermediate container 2c3d4e5f6a7b\n' },
  { stream: ' ---> 9c9c9c9c9c9c\n' },
  { aux: { ID: IMAGE_ID } },
  { stream: 'Successfully built 9c9c9c9c9c9c\n' },
  { stream: 'Successfully tagged team/app:1\n' },
];

function run<S>(
  translate: (state: S, message: EngineMessage) => [S, ProgressEmit[]],
  state: S,
  messages: EngineMessage[],
) {
  const emits: ProgressEmit[] = [];
  for (const message of messages) {
    const [next, out] = translate(state, message);
    state = next;
    emits.push(...out);
  }
  return { state, emits };
}

async function* stream(messages: EngineMessage[]): AsyncGenerator<EngineMessage> {
  yield* messages;
}

class RecordingEmit implements JobEmit {
  calls: Array<['log', string] | ['progress', number | null, JobLayer | undefined] | ['step', JobStep, string]> = [];
  log(message: string): void {
    this.calls.push(['log', message]);
  }
  progress(progress: number | null, layer?: JobLayer): void {
    this.calls.push(['progress', progress, layer]);
  }
  step(step: JobStep, message: string): void {
    this.calls.push(['step', step, message]);
  }
  readonly congested: boolean = false;
  async drain(): Promise<void> {
    // Nothing is queued: every call is recorded at once.
  }
}

describe('pull progress', () => {
  const { state, emits } = run(translateTransfer, initialTransfer('pull'), PULL);
  const progress = emits.flatMap((e) => (e.kind === 'progress' ? [e] : []));

  it('reports every layer status with the engine counters', () => {
    expect(progress).toHaveLength(17);
    expect(progress[0]?.layer).toEqual({ id: '0f1e2d3c4b5a', status: 'Already exists', current: null, total: null });
    expect(progress[4]?.layer).toEqual({ id: 'a1b2c3d4e5f6', status: 'Downloading', current: 32768, total: 100000 });
    expect(progress.map((p) => p.layer.status)).toContain('Pull complete');
  });

  it('computes overall progress over layers of known size, download and extraction alike', () => {
    // Nothing is sized until the first Downloading.
    expect(progress.slice(0, 4).map((p) => p.progress)).toEqual([null, null, null, null]);
    expect(progress[4]?.progress).toBeCloseTo(32768 / 200000);
    expect(progress[5]?.progress).toBeCloseTo(0.5);
    // The second layer's size is learnt: 100000 downloaded + 50000 of 2 x (100000 + 300000).
    expect(progress[8]?.progress).toBeCloseTo(150000 / 800000);
    expect(progress[9]?.progress).toBeCloseTo((100000 + 65536 + 50000) / 800000);
    expect(progress[progress.length - 1]?.progress).toBe(1);
  });

  it('logs the lines that are not about a layer and keeps the digest', () => {
    expect(emits.flatMap((e) => (e.kind === 'log' ? [e.message] : []))).toEqual([
      '1: Pulling from team/app',
      `Digest: ${DIGEST}`,
      'Status: Downloaded newer image for localhost:5001/team/app:1',
    ]);
    expect(state.digest).toBe(DIGEST);
  });
});

describe('push progress', () => {
  it('reports layers, bytes pushed and the aux digest', () => {
    const { state, emits } = run(translateTransfer, initialTransfer('push'), PUSH);
    const progress = emits.flatMap((e) => (e.kind === 'progress' ? [e] : []));
    expect(progress.map((p) => [p.layer.id, p.layer.status, p.progress])).toEqual([
      ['5f70bf18a086', 'Preparing', null],
      ['e2eb06d8af82', 'Preparing', null],
      ['e2eb06d8af82', 'Waiting', null],
      ['5f70bf18a086', 'Layer already exists', null],
      ['e2eb06d8af82', 'Pushing', 0.25],
      ['e2eb06d8af82', 'Pushing', 1],
      ['e2eb06d8af82', 'Pushed', 1],
    ]);
    expect(emits.flatMap((e) => (e.kind === 'log' ? [e.message] : []))).toEqual([
      'The push refers to repository [localhost:5001/team/app]',
      `1: digest: ${DIGEST} size: 739`,
    ]);
    expect(state.digest).toBe(DIGEST);
  });
});

describe('build progress', () => {
  it('turns Step lines into steps and the rest into log lines', () => {
    const { state, emits } = run(translateBuild, initialBuild(), BUILD);
    const steps = emits.flatMap((e) => (e.kind === 'step' ? [e] : []));
    expect(steps.map((s) => s.step)).toEqual([
      { index: 1, count: 4, instruction: 'FROM localhost:5001/drydock-fixture/busybox:1' },
      { index: 2, count: 4, instruction: 'RUN echo hello && echo world' },
      { index: 3, count: 4, instruction: 'LABEL team=platform' },
      { index: 4, count: 4, instruction: 'CMD ["sh"]' },
    ]);
    expect(steps[1]?.message).toBe('Step 2/4 : RUN echo hello && echo world');
    const logs = emits.flatMap((e) => (e.kind === 'log' ? [e.message] : []));
    expect(logs).toContain('hello');
    expect(logs).toContain('world');
    expect(logs.slice(-2)).toEqual(['Successfully built 9c9c9c9c9c9c', 'Successfully tagged team/app:1']);
    expect(state.imageId).toBe(IMAGE_ID);
  });

  it('falls back to the id of "Successfully built" without aux', () => {
    const { state } = run(
      translateBuild,
      initialBuild(),
      BUILD.filter((m) => !m.aux),
    );
    expect(state.imageId).toBe('9c9c9c9c9c9c');
  });

  it('logs the milestones of a FROM pull but not its byte counters', () => {
    const { emits } = run(translateBuild, initialBuild(), [
      { status: 'Pulling from library/busybox', id: 'latest' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3d4e5f6' },
      { status: 'Downloading', progressDetail: { current: 1, total: 2 }, id: 'a1b2c3d4e5f6' },
      { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
    ]);
    expect(emits).toEqual([
      { kind: 'log', message: 'latest: Pulling from library/busybox' },
      { kind: 'log', message: 'a1b2c3d4e5f6: Pulling fs layer' },
      { kind: 'log', message: 'a1b2c3d4e5f6: Pull complete' },
    ]);
  });

  it('joins a line the engine cut across two messages, Step lines included', async () => {
    const recorded = new RecordingEmit();
    const { imageId } = await relayBuild(
      stream([
        { stream: 'Step 1/2 : FROM bus' },
        { stream: 'ybox\n' },
        { stream: 'burst 12' },
        { stream: '18\nburst 1219\n' },
        { stream: 'last line without newline' },
      ]),
      recorded,
    );
    expect(recorded.calls).toEqual([
      ['step', { index: 1, count: 2, instruction: 'FROM busybox' }, 'Step 1/2 : FROM busybox'],
      ['log', 'burst 1218'],
      ['log', 'burst 1219'],
      ['log', 'last line without newline'],
    ]);
    expect(imageId).toBeNull();
  });

  it('splits stream chunks on newlines and drops the trailing empty one', () => {
    expect(streamLines('a\nb\n')).toEqual(['a', 'b']);
    expect(streamLines('partial')).toEqual(['partial']);
    expect(streamLines('\n')).toEqual(['']);
    expect(streamLines('a\r\n\nb')).toEqual(['a', '', 'b']);
  });
});

describe('relays', () => {
  it('drive a job emitter over a live pull and return the digest', async () => {
    const emit = new RecordingEmit();
    await expect(relayTransfer('pull', stream(PULL), emit)).resolves.toEqual({ digest: DIGEST });
    expect(emit.calls[0]).toEqual(['log', '1: Pulling from team/app']);
    expect(emit.calls.filter((c) => c[0] === 'progress')).toHaveLength(17);
  });

  it('drive a job emitter over a live build and return the image id', async () => {
    const emit = new RecordingEmit();
    await expect(relayBuild(stream(BUILD), emit)).resolves.toEqual({ imageId: IMAGE_ID });
    expect(emit.calls.filter((c) => c[0] === 'step').map((c) => c[2])).toEqual([
      'Step 1/4 : FROM localhost:5001/drydock-fixture/busybox:1',
      'Step 2/4 : RUN echo hello && echo world',
      'Step 3/4 : LABEL team=platform',
      'Step 4/4 : CMD ["sh"]',
    ]);
  });
});

describe('a flood of build output', () => {
  it('goes out as one line cut at the cap when it never ends, and the next line is whole', () => {
    const chunk = 'a'.repeat(256 * 1024);
    const messages: EngineMessage[] = [...Array.from({ length: 12 }, () => ({ stream: chunk })), { stream: 'aaa\nnext\n' }];
    const { emits } = run(translateBuild, initialBuild(), messages);
    const logs = emits.flatMap((e) => (e.kind === 'log' ? [e.message] : []));
    expect(logs).toHaveLength(2);
    expect(Buffer.byteLength(logs[0] ?? '')).toBe(MAX_LINE_BYTES);
    expect(logs[0]?.endsWith(TRUNCATED_MARK)).toBe(true);
    expect(logs[1]).toBe('next');
  });

  it('stops reading the engine stream while the emitter is congested, until it drains', async () => {
    const order: string[] = [];
    async function* engine(): AsyncGenerator<EngineMessage> {
      for (let i = 0; i < 3; i++) {
        order.push(`read ${i}`);
        yield { stream: `line ${i}\n` };
      }
    }
    const emit: JobEmit = {
      log: (message) => order.push(`log ${message}`),
      progress: () => undefined,
      step: () => undefined,
      congested: true,
      drain: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push('drained');
      },
    };
    await relayBuild(engine(), emit);
    expect(order).toEqual(['read 0', 'log line 0', 'drained', 'read 1', 'log line 1', 'drained', 'read 2', 'log line 2', 'drained']);
  });
});
