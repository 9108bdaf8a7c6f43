import { readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { eventually } from '../../support/graphql';
import { tarContext } from '../../support/jobs';
import { check, cutUpload, expectProblem, expectRefused, type HostileCase, type Target } from '../harness';

/** The spool must be empty again soon after a refused or cut upload ("gone at once", within a deadline, not a sleep). */
async function expectSpoolEmpty(target: Target): Promise<void> {
  await eventually(
    async () => {
      let names: string[] = [];
      try {
        names = readdirSync(target.spoolDir).filter((name) => !name.startsWith('.'));
      } catch {
        // No spool directory yet: nothing was left.
      }
      return names.length === 0 ? true : undefined;
    },
    5_000,
    'the build-context spool to be empty',
  );
}

const DOCKERFILE = 'FROM scratch\nCOPY a /a\n';

async function bigContext(bytes: number): Promise<Buffer> {
  return tarContext({ Dockerfile: DOCKERFILE, a: Buffer.alloc(bytes, 0x61) });
}

function head(target: Target, path: string, contentType: string, length: number): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${target.tokens.builderA}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;
}

function multipart(boundary: string, tag: string, context: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="t"\r\n\r\n${tag}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="context"; filename="c.tar"\r\nContent-Type: application/x-tar\r\n\r\n`),
    context,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** A tar whose entries are given as tar-stream headers, for archives a real directory never makes. */
async function rawTar(entries: Array<[Record<string, unknown>, string?]>): Promise<Buffer> {
  const { pack } = await import('tar-stream');
  const tar = pack();
  for (const [header, content] of entries) tar.entry(header as { name: string }, content ?? '');
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const cut = (defect: string, name: string, build: (t: Target) => Promise<{ head: string; sent: Buffer }>): HostileCase => ({
  defect,
  name,
  async run(target) {
    const { head: h, sent } = await build(target);
    await cutUpload(target.port, h, sent);
    await expectSpoolEmpty(target);
  },
});

const tag = (t: Target): string => encodeURIComponent(`${t.namespaceA}/app:cut`);

export const uploads: HostileCase[] = [
  // #8.1: the client goes away mid-body. Every entry point, every compression, several cut points.
  ...[0.1, 0.5, 0.95].map((fraction) =>
    cut('#8.1 cut-short upload', `a tar body cut at ${fraction * 100}%`, async (t) => {
      const body = await bigContext(1024 * 1024);
      return { head: head(t, `/v1/builds?t=${tag(t)}`, 'application/x-tar', body.length), sent: body.subarray(0, Math.floor(body.length * fraction)) };
    }),
  ),
  cut('#8.1 cut-short upload', 'a gzipped tar body cut in the middle', async (t) => {
    const body = gzipSync(await bigContext(1024 * 1024), { level: 0 });
    return { head: head(t, `/v1/builds?t=${tag(t)}`, 'application/gzip', body.length), sent: body.subarray(0, body.length >> 1) };
  }),
  cut('#8.1 cut-short upload', 'a tar cut inside its first header', async (t) => {
    const body = await bigContext(1024);
    return { head: head(t, `/v1/builds?t=${tag(t)}`, 'application/x-tar', body.length), sent: body.subarray(0, 100) };
  }),
  cut('#8.1 cut-short upload', 'a multipart build cut inside the context part', async (t) => {
    const body = multipart('cutcut', `${t.namespaceA}/app:cut`, await bigContext(1024 * 1024));
    return { head: head(t, '/v1/builds', 'multipart/form-data; boundary=cutcut', body.length), sent: body.subarray(0, body.length >> 1) };
  }),
  cut('#8.1 cut-short upload', 'a multipart build cut inside a field', async (t) => {
    const body = multipart('cutcut', `${t.namespaceA}/app:cut`, await bigContext(1024));
    return { head: head(t, '/v1/builds', 'multipart/form-data; boundary=cutcut', body.length), sent: body.subarray(0, 30) };
  }),
  cut('#8.1 cut-short upload', 'an uploaded context (for GraphQL) cut in the middle', async (t) => {
    const body = await bigContext(1024 * 1024);
    return { head: head(t, '/v1/builds/contexts', 'application/x-tar', body.length), sent: body.subarray(0, body.length >> 1) };
  }),
  cut('#8.1 cut-short upload', 'a body that announces a gigabyte and stops after a megabyte', async (t) => {
    const body = await bigContext(1024 * 1024);
    return { head: head(t, `/v1/builds?t=${tag(t)}`, 'application/x-tar', 1024 ** 3), sent: body };
  }),
  ...Array.from({ length: 10 }, (_, i) =>
    cut('#8.1 cut-short upload', `cut upload ${i + 1} of a burst of ten`, async (t) => {
      const body = await bigContext(256 * 1024);
      return { head: head(t, i % 2 ? '/v1/builds/contexts' : `/v1/builds?t=${tag(t)}`, 'application/x-tar', body.length), sent: body.subarray(0, 1000 + i * 20_000) };
    }),
  ),

  // #8.1: past the cap, a 413 is answered and nothing stays.
  ...(['tar', 'contexts', 'multipart'] as const).map(
    (via): HostileCase => ({
      defect: '#8.1 upload past the cap',
      name: `a ${via} upload one MiB past the cap gets 413`,
      async run(target) {
        const context = await bigContext(target.limits.contextBytes + 1024 * 1024);
        const answer =
          via === 'multipart'
            ? await target.request('POST', '/v1/builds', target.tokens.builderA, {
                headers: { 'content-type': 'multipart/form-data; boundary=capcap' },
                body: multipart('capcap', `${target.namespaceA}/app:cap`, context),
              })
            : await target.request('POST', via === 'tar' ? `/v1/builds?t=${tag(target)}` : '/v1/builds/contexts', target.tokens.builderA, {
                headers: { 'content-type': 'application/x-tar' },
                body: context,
              });
        expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE');
        await expectSpoolEmpty(target);
      },
    }),
  ),

  // Not a tar at all, or an empty one.
  ...[
    ['garbage bytes', Buffer.from('this is not a tar archive '.repeat(100))],
    ['an empty body', Buffer.alloc(0)],
    ['a gzip header and nothing else', Buffer.from([0x1f, 0x8b, 0x08, 0x00])],
    ['a truncated gzip stream', gzipSync(Buffer.alloc(100_000, 1)).subarray(0, 500)],
    ['a tar of zeros', Buffer.alloc(10_240)],
  ].map(
    ([what, body]): HostileCase => ({
      defect: '#8.1 malformed upload',
      name: `a build from ${what as string} is refused with a 4xx`,
      async run(target) {
        const answer = await target.request('POST', `/v1/builds?t=${tag(target)}`, target.tokens.builderA, {
          headers: { 'content-type': 'application/x-tar' },
          body: body as Buffer,
        });
        expectRefused(answer);
        await expectSpoolEmpty(target);
      },
    }),
  ),

  // #8.15: the Dockerfile checked must be the Dockerfile built.
  ...(
    [
      ['a tar holding the Dockerfile twice is refused', 'DOCKERFILE_INVALID', (b: string) => rawTar([[{ name: 'Dockerfile' }, 'FROM scratch\n'], [{ name: './Dockerfile' }, `FROM ${b}/evil\n`]])],
      [
        'a Dockerfile over 1 MiB is refused, not checked truncated',
        'DOCKERFILE_INVALID',
        (b: string) => tarContext({ Dockerfile: `FROM scratch\n${'# padding\n'.repeat(110_000)}FROM ${b}/evil\n` }),
      ],
      [
        'a Dockerfile swapped in through a symlinked directory (`sub -> .`, then `sub/Dockerfile`) is refused',
        'VALIDATION_FAILED',
        (b: string) =>
          rawTar([
            [{ name: 'Dockerfile' }, 'FROM scratch\n'],
            [{ name: 'sub', type: 'symlink', linkname: '.' }],
            [{ name: 'sub/Dockerfile' }, `FROM ${b}/evil\n`],
          ]),
      ],
    ] as const
  ).map(
    ([name, code, context]): HostileCase => ({
      defect: '#8.15 checked is built',
      name,
      async run(target) {
        const body = await context(target.namespaceB);
        const answer = await target.request('POST', `/v1/builds?t=${tag(target)}`, target.tokens.builderA, { headers: { 'content-type': 'application/x-tar' }, body });
        expectProblem(answer, 400, code);
        await expectSpoolEmpty(target);
      },
    }),
  ),

  // #8.9: an upload is its team's.
  {
    defect: '#8.9 uploads belong to a team',
    name: "team B cannot build from team A's uploaded context",
    async run(target) {
      const upload = await target.request('POST', '/v1/builds/contexts', target.tokens.builderA, {
        headers: { 'content-type': 'application/x-tar' },
        body: await tarContext({ Dockerfile: 'FROM scratch\nCOPY secret /secret\n', secret: 'team-a only' }),
      });
      check(upload.status === 201, `upload answered ${upload.status}: ${upload.body}`);
      const { id } = JSON.parse(upload.body) as { id: string };
      const answer = await target.request('POST', '/v1/builds', target.tokens.builderB, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contextUploadId: id, tags: [`${target.namespaceB}/stolen:1`] }),
      });
      expectProblem(answer, 404, 'UPLOAD_NOT_FOUND');
      const graphql = await target.graphql(
        target.tokens.builderB,
        'mutation($id: String!, $tag: String!) { buildImage(input: { contextUploadId: $id, tags: [$tag] }) { id } }',
        { id, tag: `${target.namespaceB}/stolen:2` },
      );
      check(graphql.body.includes('UPLOAD_NOT_FOUND'), `GraphQL answered ${graphql.body.slice(0, 300)}`);
    },
  },
];
