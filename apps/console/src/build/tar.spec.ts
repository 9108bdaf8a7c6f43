import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { folderEntries, packTar } from './tar';

async function unpack(blob: Blob): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        files[header.name] = Buffer.concat(chunks).toString('utf8');
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  Readable.from(Buffer.from(await blob.arrayBuffer())).pipe(reader);
  await done;
  return files;
}

describe('the browser tar packer', () => {
  it('writes a tar that a standard reader reads back whole, long paths included', async () => {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file.txt`;
    const tar = packTar([
      { path: 'Dockerfile', file: new Blob(['FROM scratch\n']) },
      { path: 'sub/odd-size.bin', file: new Blob(['x'.repeat(513)]) },
      { path: long, file: new Blob(['deep']) },
    ]);
    expect(tar.size % 512).toBe(0);
    expect(await unpack(tar)).toEqual({ Dockerfile: 'FROM scratch\n', 'sub/odd-size.bin': 'x'.repeat(513), [long]: 'deep' });
  });

  it('refuses a path that climbs out of the context', () => {
    expect(() => packTar([{ path: 'a/../../etc/passwd', file: new Blob(['']) }])).toThrow(/refusing/);
  });

  it("drops the picked folder's own name from each path", () => {
    const file = Object.assign(new Blob(['x']), { name: 'Dockerfile', webkitRelativePath: 'project/Dockerfile', lastModified: 0 }) as unknown as File;
    const list = Object.assign([file], { item: (index: number) => [file][index] ?? null }) as unknown as FileList;
    expect(folderEntries(list).map((entry) => entry.path)).toEqual(['Dockerfile']);
  });
});
