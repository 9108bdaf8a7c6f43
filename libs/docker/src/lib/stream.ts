import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DrydockError, ErrorCode } from '@drydock/core';
import { classifyMessage } from './engine-errors';

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

/** Yields each JSON message of the stream; a line that is not JSON becomes a `stream` message. */
export async function* decodeJsonLines(body: Readable): AsyncGenerator<EngineMessage> {
  let buffered = '';
  // A multi-byte character may be cut at a chunk boundary: the decoder holds its first bytes back.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of body) {
    buffered += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parseLine(line);
    }
  }
  const rest = (buffered + decoder.end()).trim();
  if (rest) yield parseLine(rest);
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
