/**
 * The one line cap of Drydock: build, run and pull output alike, and the
 * container logs endpoint. A line past it is cut, marked, and the rest of it
 * (up to its newline) dropped, so no single line ever costs more than this in
 * memory, in Redis or on the wire, whatever a tenant's program prints.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Ends a line cut at the cap; the cut line with it is still at most the cap. */
export const TRUNCATED_MARK = ' [line truncated]';

const MARK_BYTES = Buffer.byteLength(TRUNCATED_MARK);

/** The longest prefix of `bytes` of at most `max` bytes that does not end inside a UTF-8 character. */
export function utf8Prefix(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back off over continuation bytes (10xxxxxx) to the start of the character that crosses the cut.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function decode(bytes: Buffer): string {
  const line = bytes.toString('utf8');
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** `line` itself if within `max` bytes, else its head and TRUNCATED_MARK, `max` bytes at most together. */
export function capLine(line: string, max = MAX_LINE_BYTES): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short strings need no counting.
  if (line.length * 3 <= max || Buffer.byteLength(line) <= max) return line;
  return utf8Prefix(Buffer.from(line), max - MARK_BYTES).toString('utf8') + TRUNCATED_MARK;
}

/**
 * Bytes in, complete lines out (without their newline or a CR before it).
 * A partial line is held as bytes, so a character cut across chunks stays
 * whole; what is held never exceeds the cap: at the cap the line goes out cut
 * and marked, and its remainder is skipped up to the next newline.
 */
export class LineAssembler {
  /**
   * The partial line, in the pieces it came in: joined once, when its newline
   * or the cap arrives. Joining on every chunk copied a line that grows to the
   * cap over and over (tens of MB of garbage for one 1 MiB line).
   */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private skipping = false;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  *push(chunk: Buffer): Generator<string> {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(0x0a, start)) >= 0) {
      const end = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.skipping) this.skipping = false;
      else yield this.whole(this.take(end));
    }
    if (start >= chunk.length || this.skipping) return;
    // Copy, so a held remainder does not pin the whole chunk it was cut from.
    const rest = Buffer.from(chunk.subarray(start));
    this.held.push(rest);
    this.heldBytes += rest.length;
    if (this.heldBytes > this.maxBytes) {
      yield this.cut(this.take());
      this.skipping = true;
    }
  }

  /** The last line, if the output did not end with a newline. */
  *end(): Generator<string> {
    const rest = this.take();
    if (rest.length && !this.skipping) yield this.whole(rest);
    this.skipping = false;
  }

  /** The held pieces and `last` as one line; nothing is held after. */
  private take(last?: Buffer): Buffer {
    const pieces = last ? [...this.held, last] : this.held;
    const line = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
    this.held = [];
    this.heldBytes = 0;
    return line;
  }

  private whole(line: Buffer): string {
    return line.length > this.maxBytes ? this.cut(line) : decode(line);
  }

  private cut(line: Buffer): string {
    return utf8Prefix(line, this.maxBytes - MARK_BYTES).toString('utf8') + TRUNCATED_MARK;
  }
}
