import { DrydockError, ErrorCode } from '@drydock/core';
import { utf8Prefix, type OutputLine } from '@drydock/docker';

/**
 * `docker logs --since`: an RFC 3339 time, UNIX seconds (`1700000000`,
 * `1700000000.5`), or a duration before now (`90s`, `10m`, `2h`). Answers
 * UNIX seconds, as the engine takes them.
 */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d{1,9})(s|m|h)$/.exec(value);
  if (relative) {
    const seconds = Number(relative[1]) * { s: 1, m: 60, h: 3600 }[relative[2] as 's' | 'm' | 'h'];
    return Math.max(0, Math.floor(now / 1000) - seconds);
  }
  if (/^\d{1,12}(\.\d{1,9})?$/.test(value)) return Number(value);
  const time = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time) || time < 0) {
    throw new DrydockError(
      ErrorCode.VALIDATION_FAILED,
      `since must be an RFC 3339 time, UNIX seconds or a duration like 10m, not ${JSON.stringify(value.slice(0, 40))}`,
    );
  }
  return time / 1000;
}

/** Marks the end of output that was cut at the byte limit. */
export const CUT = Symbol('cut');

/**
 * At most `limit` bytes of output, counting each line with its newline. The
 * line that crosses the limit is cut there (its newline not counted), then
 * CUT, and nothing more is read.
 */
export async function* limitBytes(lines: AsyncIterable<OutputLine>, limit: number): AsyncGenerator<OutputLine | typeof CUT> {
  let left = limit;
  for await (const { stream, line } of lines) {
    const bytes = Buffer.from(line);
    if (bytes.length + 1 <= left) {
      left -= bytes.length + 1;
      yield { stream, line };
      continue;
    }
    // The whole line fits only without its newline, or part of it: either way the output stops here.
    if (left > 0) yield { stream, line: utf8Prefix(bytes, left).toString('utf8') };
    yield CUT;
    return;
  }
}

/** Roughly this much JSON per chunk written: one write per line would cost more than the lines. */
const CHUNK_CHARS = 64 * 1024;

/** The JSON body `{"lines":[...],"truncated":bool}`, written as the lines come. */
export async function* logsJson(lines: AsyncIterable<OutputLine | typeof CUT>): AsyncGenerator<string> {
  let chunk = '{"lines":[';
  let first = true;
  let truncated = false;
  for await (const item of lines) {
    if (item === CUT) {
      truncated = true;
      continue;
    }
    chunk += (first ? '' : ',') + JSON.stringify({ stream: item.stream, line: item.line });
    first = false;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}],"truncated":${truncated}}`;
}
