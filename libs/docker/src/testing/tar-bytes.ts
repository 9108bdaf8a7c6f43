import { pack, type Header } from 'tar-stream';

/** A tar entry for a test: its header, and a file's content. */
export type TarFixtureEntry = [Partial<Header> & Pick<Header, 'name'>, string?];

/** A tar archive in memory, made by tar-stream as clients make them (tests only). */
export async function tarBytes(entries: TarFixtureEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  for (const [header, body] of entries) tar.entry(header, body ?? '');
  tar.finalize();
  await ended;
  return Buffer.concat(chunks);
}
