import { readSse, type SseMessage } from './sse';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function all(body: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(body, { maxLineLength: 1024, maxDataLength: 4096 })) messages.push(message);
  return messages;
}

describe('readSse', () => {
  it('joins data lines, skips comments, keeps the last id and names unnamed events "message"', async () => {
    expect(await all(streamOf(': hi\n\nid: 1\nevent: log\ndata: a\ndata: b\n\ndata: c\n\n'))).toEqual([
      { id: '1', event: 'log', data: 'a\nb' },
      { id: '1', event: 'message', data: 'c' },
    ]);
  });

  it('reads CRLF and CR line ends, even when a CRLF is split across chunks', async () => {
    expect(await all(streamOf('id: 7\r', '\ndata: x\r\n\r', '\ndata: y\r\r'))).toEqual([
      { id: '7', event: 'message', data: 'x' },
      { id: '7', event: 'message', data: 'y' },
    ]);
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: é\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 7));
        controller.enqueue(bytes.slice(7));
        controller.close();
      },
    });
    expect(await all(body)).toEqual([{ id: undefined, event: 'message', data: 'é' }]);
  });

  it('drops a message the stream ended in the middle of', async () => {
    expect(await all(streamOf('data: whole\n\ndata: half'))).toEqual([{ id: undefined, event: 'message', data: 'whole' }]);
  });
});
