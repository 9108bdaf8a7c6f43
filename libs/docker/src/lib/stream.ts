import { Readable } from 'node:stream';
import { DrydockError, ErrorCode } from '@drydock/core';
import { classifyMessage } from './engine-errors';
import { LineAssembler, TRUNCATED_MARK } from './lines';

/**
 * One line of the engine's JSON progress stream (pull, push, build, commit).
 * The engine answers 200 and reports failures as `error`/`errorDetail` lines
 * inside the stream, which is why every stream is decoded here and not by
 * dockerode's followProgress (it resolves even when the stream carried an error).
 */
export interface EngineMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: { ID?: string; Digest?: string; Tag?: string; Size?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/**
 * The longest JSON line read from the engine. BuildKit splits a trace once its
 * logs pass 1 MiB (control/control.go), about 1.4 MiB once base64'd; legacy
 * output lines are far shorter. A longer line is dropped, never held whole.
 */
export const MAX_JSON_LINE_BYTES = 4 * 1024 * 1024;

/** Yields each JSON message of the stream; a line that is not JSON becomes a `stream` message. */
export async function* decodeJsonLines(body: Readable, maxLineBytes = MAX_JSON_LINE_BYTES): AsyncGenerator<EngineMessage> {
  // Holds a partial line as bytes, so a character cut across chunks stays whole, and never more than the cap.
  const lines = new LineAssembler(maxLineBytes);
  for await (const chunk of body) {
    yield* parsedLines(lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)));
  }
  yield* parsedLines(lines.end());
}

function* parsedLines(lines: Iterable<string>): Generator<EngineMessage> {
  for (const raw of lines) {
    const line = raw.trim();
    // A line cut at the cap is no message any more.
    if (line && !line.endsWith(TRUNCATED_MARK)) yield parseLine(line);
  }
}

function parseLine(line: string): EngineMessage {
  try {
    return JSON.parse(line) as EngineMessage;
  } catch {
    return { stream: line };
  }
}

/**
 * Decodes the stream and throws the first error it carries, classified. The
 * engine's own message is kept whole: users need it to fix their build or login.
 */
export async function* decodeProgress(body: Readable, failure: ErrorCode): AsyncGenerator<EngineMessage> {
  for await (const message of decodeJsonLines(body)) {
    const text = message.errorDetail?.message ?? message.error;
    if (text !== undefined) {
      throw new DrydockError(classifyMessage(text) ?? failure, text);
    }
    yield message;
  }
}
