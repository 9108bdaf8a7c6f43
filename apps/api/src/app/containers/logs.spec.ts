import { ErrorCode } from '@drydock/core';
import { type OutputLine } from '@drydock/docker';
import { CUT, limitBytes, logsJson, parseSince } from './logs';

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function* out(...lines: string[]): AsyncGenerator<OutputLine> {
  for (const line of lines) yield { stream: 'stdout', line };
}

describe('container logs: the byte limit and since', () => {
  it('passes output within the limit whole', async () => {
    expect(await all(limitBytes(out('ab', 'cd'), 6))).toEqual([
      { stream: 'stdout', line: 'ab' },
      { stream: 'stdout', line: 'cd' },
    ]);
  });

  it('cuts the line that crosses the limit exactly there, and reads no further', async () => {
    let read = 0;
    async function* counted(): AsyncGenerator<OutputLine> {
      for (const line of ['abc', 'defgh', 'never', 'read']) {
        read++;
        yield { stream: 'stdout', line };
      }
    }
    expect(await all(limitBytes(counted(), 6))).toEqual([{ stream: 'stdout', line: 'abc' }, { stream: 'stdout', line: 'de' }, CUT]);
    expect(read).toBe(2);
  });

  it('writes the JSON body with the truncated flag last', async () => {
    const body = (await all(logsJson(limitBytes(out('a"b', 'c'), 5)))).join('');
    expect(JSON.parse(body)).toEqual({ lines: [{ stream: 'stdout', line: 'a"b' }, { stream: 'stdout', line: 'c' }], truncated: true });
    expect(JSON.parse((await all(logsJson(out()))).join(''))).toEqual({ lines: [], truncated: false });
  });

  it('reads since as UNIX seconds, an RFC 3339 time, or a duration before now', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(parseSince('1700000000.5', now)).toBe(1700000000.5);
    expect(parseSince('2026-01-01T00:00:00Z', now)).toBe(now / 1000 - 600);
    expect(parseSince('10m', now)).toBe(now / 1000 - 600);
    for (const bad of ['yesterday', '1e9', '-5', '2026-13-45T00:00:00Z', '10d']) {
      expect(() => parseSince(bad, now)).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }));
    }
  });
});
