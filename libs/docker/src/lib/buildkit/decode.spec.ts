import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { decodeBuildkitStream, decodeTrace } from './decode';
import type { BuildkitMessage, BuildkitVertex, BuildkitVertexLog } from './trace';

/** Captured from this engine (20.10, API 1.41): `RUN echo out-line && echo err-line >&2 && exit 3` on /build?version=2. */
const CAPTURED = readFileSync(join(__dirname, 'fixtures/failing-run.jsonl'));

async function collect(source: AsyncIterable<BuildkitMessage>): Promise<{ messages: BuildkitMessage[]; error: unknown }> {
  const messages: BuildkitMessage[] = [];
  try {
    for await (const message of source) messages.push(message);
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

function traces(messages: BuildkitMessage[]): { vertexes: BuildkitVertex[]; logs: BuildkitVertexLog[] } {
  const only = messages.flatMap((m) => (m.kind === 'trace' ? [m] : []));
  return { vertexes: only.flatMap((m) => m.vertexes), logs: only.flatMap((m) => m.logs) };
}

describe('decoding the BuildKit build stream', () => {
  it('decodes a captured trace into named vertexes, ISO times and log bytes with their stream', async () => {
    // Cut in 7-byte chunks, so every message arrives in pieces.
    const chunks: Buffer[] = [];
    for (let at = 0; at < CAPTURED.length; at += 7) chunks.push(CAPTURED.subarray(at, at + 7));
    const { messages } = await collect(decodeBuildkitStream(Readable.from(chunks)));
    const { vertexes, logs } = traces(messages);

    const run = vertexes.filter((v) => v.name === '[2/2] RUN echo out-line && echo err-line >&2 && exit 3');
    expect(run.length).toBeGreaterThan(0);
    const last = run[run.length - 1] as BuildkitVertex;
    expect(last.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(last.inputs).toHaveLength(1);
    expect(last.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(last.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(last.startedAt ?? ''));
    expect(last.error).toMatch(/exit code: 3/);
    // A vertex not started yet has no times, not 0001-01-01.
    expect(run[0]?.startedAt).toBeNull();

    expect(logs.map((l) => [l.vertex, l.stream, l.data])).toEqual([
      [last.digest, 'STDOUT', Buffer.from('out-line\n')],
      [last.digest, 'STDERR', Buffer.from('err-line\n')],
    ]);
    expect(logs.every((l) => Buffer.isBuffer(l.data))).toBe(true);
  });

  it("ends a failed build with BUILD_FAILED and the engine's message, after the trace that names the failing step", async () => {
    const { messages, error } = await collect(decodeBuildkitStream(Readable.from([CAPTURED])));
    expect(traces(messages).vertexes.some((v) => v.error)).toBe(true);
    expect(error).toMatchObject({
      code: ErrorCode.BUILD_FAILED,
      message: 'executor failed running [/bin/sh -c echo out-line && echo err-line >&2 && exit 3]: exit code: 3',
    });
  });

  it('yields the built image from its moby.image.id line', async () => {
    const body = Readable.from(['{"id":"moby.image.id","aux":{"ID":"sha256:' + 'a'.repeat(64) + '"}}\n']);
    expect((await collect(decodeBuildkitStream(body))).messages).toEqual([{ kind: 'image', id: 'sha256:' + 'a'.repeat(64) }]);
  });

  it('drops a line over the cap without holding it whole, and goes on with the next ones', async () => {
    const huge = `{"id":"moby.buildkit.trace","aux":"${'A'.repeat(64 * 1024)}"}\n`;
    const image = '{"id":"moby.image.id","aux":{"ID":"sha256:' + 'b'.repeat(64) + '"}}\n';
    const chunks: string[] = [];
    for (let at = 0; at < huge.length; at += 4096) chunks.push(huge.slice(at, at + 4096));
    chunks.push(image);
    const { messages, error } = await collect(decodeBuildkitStream(Readable.from(chunks), 8 * 1024));
    expect(error).toBeUndefined();
    expect(messages).toEqual([{ kind: 'image', id: 'sha256:' + 'b'.repeat(64) }]);
  });

  it('skips lines that are not BuildKit messages and aux that is not a StatusResponse', async () => {
    const body = Readable.from(['not json\n', '{"stream":"legacy text"}\n', '{"id":"moby.buildkit.trace","aux":"////"}\n', '\n']);
    expect((await collect(decodeBuildkitStream(body))).messages).toEqual([]);
  });

  it('decodes an empty StatusResponse as an empty trace', () => {
    expect(decodeTrace('')).toEqual({ kind: 'trace', vertexes: [], statuses: [], logs: [] });
  });
});
