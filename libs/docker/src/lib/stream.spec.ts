import { Readable } from 'node:stream';
import { ErrorCode } from '@drydock/core';
import { decodeJsonLines, decodeProgress, type EngineMessage } from './stream';

async function all(source: AsyncIterable<EngineMessage>): Promise<EngineMessage[]> {
  const out: EngineMessage[] = [];
  for await (const message of source) out.push(message);
  return out;
}

describe('decoding the engine\'s JSON progress streams', () => {
  it('rejoins messages and multi-byte characters cut across chunks', async () => {
    const bytes = Buffer.from('{"stream":"caf\u00e9 \u2713"}\n{"status":"Pushed","id":"abc"}\n');
    // Cut inside the two-byte é and inside the three-byte ✓.
    const cuts = [bytes.indexOf(0xc3) + 1, bytes.indexOf(0xe2) + 2];
    const chunks = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
    expect(await all(decodeJsonLines(Readable.from(chunks)))).toEqual([{ stream: 'caf\u00e9 \u2713' }, { status: 'Pushed', id: 'abc' }]);
  });

  it('surfaces an error that arrives inside a 200 stream, with the engine\'s own message', async () => {
    const body = Readable.from([
      '{"stream":"Step 2/2 : RUN exit 3\\n"}\n',
      '{"errorDetail":{"code":3,"message":"The command \'/bin/sh -c exit 3\' returned a non-zero code: 3"},"error":"..."}\n',
    ]);
    await expect(all(decodeProgress(body, ErrorCode.BUILD_FAILED))).rejects.toMatchObject({
      code: ErrorCode.BUILD_FAILED,
      message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    });
  });

  it('classifies a refused push inside the stream as REGISTRY_UNAUTHORIZED', async () => {
    const body = Readable.from(['{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\n']);
    await expect(all(decodeProgress(body, ErrorCode.REGISTRY_ERROR))).rejects.toMatchObject({ code: ErrorCode.REGISTRY_UNAUTHORIZED });
  });

  it('drops a line over the cap instead of holding it whole, and reads on', async () => {
    const huge = Buffer.from(`{"stream":"${'x'.repeat(64 * 1024)}"}\n{"status":"after"}\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < huge.length; at += 4096) chunks.push(huge.subarray(at, at + 4096));
    expect(await all(decodeJsonLines(Readable.from(chunks), 16 * 1024))).toEqual([{ status: 'after' }]);
  });
});
