/** One Server-Sent Events message: its `id`, its `event` name (`message` when none) and its `data` lines joined. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseLimits {
  /** The longest line, in characters, before the stream is refused. */
  maxLineLength: number;
  /** The most `data` one message may carry, in characters. */
  maxDataLength: number;
}

/** A stream that broke the format's bounds: resuming would only get the same again. */
export class SseLimitError extends Error {
  override readonly name = 'SseLimitError';
}

/**
 * Parses an event stream (the WHATWG format: LF, CRLF or CR line ends,
 * comments, `data` lines joined) as it arrives, holding at most one line and
 * one message. The body is cancelled when the caller stops reading.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, limits: SseLimits): AsyncGenerator<SseMessage, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let dataLength = 0;
  let event = '';
  let id: string | undefined;
  let pendingCr = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // A CR that ended the last chunk was a line end: an LF starting this one belongs to it.
      if (pendingCr && buffer.startsWith('\n')) buffer = buffer.slice(1);
      pendingCr = false;
      let end: number;
      while ((end = buffer.search(/[\r\n]/)) !== -1) {
        const line = buffer.slice(0, end);
        if (buffer[end] === '\r') {
          if (end + 1 === buffer.length) pendingCr = true;
          else if (buffer[end + 1] === '\n') end += 1;
        }
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (data.length) yield { id, event: event || 'message', data: data.join('\n') };
          data = [];
          dataLength = 0;
          event = '';
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const fieldValue = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'data') {
          dataLength += fieldValue.length + 1;
          if (dataLength > limits.maxDataLength) throw new SseLimitError(`an event's data is over ${limits.maxDataLength} characters`);
          data.push(fieldValue);
        } else if (field === 'event') event = fieldValue;
        else if (field === 'id' && !fieldValue.includes('\0')) id = fieldValue;
      }
      if (buffer.length > limits.maxLineLength) throw new SseLimitError(`a line of the event stream is over ${limits.maxLineLength} characters`);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
