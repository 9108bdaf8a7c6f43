import { demuxLines, MAX_LINE_BYTES, TRUNCATED_MARK, type OutputLine } from '@drydock/docker';

/** One frame of the engine's multiplexed stream: type, three zero bytes, big-endian length, payload. */
function frame(type: 1 | 2, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

async function lines(chunks: Buffer[]): Promise<OutputLine[]> {
  const out: OutputLine[] = [];
  for await (const line of demuxLines(chunks)) out.push(line);
  return out;
}

/** The same bytes cut into pieces of `size`, as a socket may deliver them. */
function cut(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return pieces;
}

describe('demuxLines: the output of a container without a TTY', () => {
  it('splits frames into lines, stdout and stderr in arrival order', async () => {
    const stream = Buffer.concat([frame(1, 'one\ntwo\n'), frame(2, 'oops\n'), frame(1, 'three\n')]);
    expect(await lines([stream])).toEqual([
      { stream: 'stdout', line: 'one' },
      { stream: 'stdout', line: 'two' },
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'three' },
    ]);
  });

  it('holds a partial line until its newline, per stream, across frames and chunks', async () => {
    const stream = Buffer.concat([frame(1, 'hel'), frame(2, 'err'), frame(1, 'lo\nwor'), frame(2, 'or\n'), frame(1, 'ld')]);
    for (const size of [1, 3, 7, 1000]) {
      expect(await lines(cut(stream, size))).toEqual([
        { stream: 'stdout', line: 'hello' },
        { stream: 'stderr', line: 'error' },
        { stream: 'stdout', line: 'world' },
      ]);
    }
  });

  it('keeps a UTF-8 character whole when a frame splits it', async () => {
    const text = Buffer.from('grüße\n', 'utf8');
    const stream = Buffer.concat([frame(1, text.subarray(0, 3)), frame(1, text.subarray(3))]);
    expect(await lines([stream])).toEqual([{ stream: 'stdout', line: 'grüße' }]);
  });

  it('keeps empty lines and drops a CR before the newline', async () => {
    expect(await lines([frame(1, 'a\r\n\nb\n')])).toEqual([
      { stream: 'stdout', line: 'a' },
      { stream: 'stdout', line: '' },
      { stream: 'stdout', line: 'b' },
    ]);
  });

  it('delivers 10,000 lines in order', async () => {
    const payload = Array.from({ length: 10_000 }, (_, i) => `${i + 1}\n`).join('');
    const out = await lines(cut(Buffer.concat(cut(Buffer.from(payload), 4096).map((piece) => frame(1, piece))), 1500));
    expect(out.map((l) => l.line)).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i + 1)));
  });

  it('cuts a line past the cap, marks it, and skips the rest of it up to its newline', async () => {
    const huge = Buffer.alloc(MAX_LINE_BYTES * 2 + 5, 'x');
    const out = await lines(cut(Buffer.concat([frame(1, huge), frame(1, '\nnext\n'), frame(2, 'err\n')]), 64 * 1024));
    expect(out.map((l) => l.line.length)).toEqual([MAX_LINE_BYTES, 4, 3]);
    expect(out[0]?.line.endsWith(TRUNCATED_MARK)).toBe(true);
    expect(out.slice(1)).toEqual([
      { stream: 'stdout', line: 'next' },
      { stream: 'stderr', line: 'err' },
    ]);
  });

  it('never holds an endless line without a newline past the cap', async () => {
    const out = await lines([frame(1, Buffer.alloc(MAX_LINE_BYTES * 3, 'y'))]);
    expect(out).toHaveLength(1);
    expect(Buffer.byteLength(out[0]?.line ?? '')).toBeLessThanOrEqual(MAX_LINE_BYTES);
  });

  it('reads a stream that is not multiplexed (a TTY) as stdout', async () => {
    expect(await lines([Buffer.from('plain text\nmore\n')])).toEqual([
      { stream: 'stdout', line: 'plain text' },
      { stream: 'stdout', line: 'more' },
    ]);
  });
});
