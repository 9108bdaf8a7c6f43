import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp, type RunningApp } from '../support/app';
import { docker, removeImagesLabelled, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually, gql, type GraphQLResponse } from '../support/graphql';
import { expectProblem } from '../support/problem';
import { present } from '../support/present';

/**
 * The images chapters of the seed guide (list, tag, digests, remove, search),
 * proved against the real engine and the local registry, over REST and GraphQL.
 * Everything this suite makes lives under its own namespace and carries its
 * own label, and is removed in afterAll.
 */

const IMAGE_FIELDS = `id shortId created size containers engines architecture os author comment
  repoTags { repository tag } repoDigests { repository digest } labels { key value }
  config { cmd entrypoint env workingDir user exposedPorts }`;

interface ImageBody {
  id: string;
  shortId: string;
  repoTags: Array<{ repository: string; tag: string }>;
  repoDigests: Array<{ repository: string; digest: string }>;
  labels: Array<{ key: string; value: string }>;
  containers: number;
  created: string;
  size: number;
}

interface LayerBody {
  id: string;
  created: string;
  createdBy: string;
  size: number;
  tags: string[];
}

const enc = encodeURIComponent;

function tagsOf(images: ImageBody | ImageBody[]): string[] {
  return (Array.isArray(images) ? images : [images]).flatMap((image) =>
    image.repoTags.map((t) => `${t.repository}:${t.tag}`),
  );
}

function digestsOf(images: ImageBody | ImageBody[]): string[] {
  return (Array.isArray(images) ? images : [images]).flatMap((image) =>
    image.repoDigests.map((d) => `${d.repository}@${d.digest}`),
  );
}

/**
 * The fixture is shared by every suite, and one of them may have removed it from
 * the engine (a pull suite, a prune): it is in the registry, so pull it back.
 */
function ensureFixture(): void {
  try {
    docker('image', 'inspect', '--format', '{{.Id}}', testEnv.fixture);
  } catch {
    docker('pull', '-q', testEnv.fixture);
  }
}

function inspectId(ref: string): string {
  return docker('image', 'inspect', '--format', '{{.Id}}', ref);
}

function engineRepoDigests(ref: string): string[] {
  return (
    (JSON.parse(
      docker('image', 'inspect', '--format', '{{json .RepoDigests}}', ref),
    ) as string[] | null) ?? []
  );
}

describe('images: list, tag, inspect, remove, prune and search against the real engine', () => {
  const ns = uniqueNamespace('e2e-images');
  /** Every image this suite builds carries this label: cleanup and prune go by it. */
  const SUITE_LABEL = 'drydock.e2e.suite';
  const repo = `${ns}/app`;
  const registryRepo = `${testEnv.registry}/${ns}/app`;
  const fixture = testEnv.fixture;
  const fixtureRepo = fixture.slice(0, fixture.lastIndexOf(':'));
  let running: RunningApp;
  let url: string;
  /** The harness's admin token; set once the app runs. */
  let authorization = '';
  /** supertest with this suite's token. */
  const api = {
    get: (path: string): request.Test =>
      request(url).get(path).set('authorization', authorization),
    post: (path: string): request.Test =>
      request(url).post(path).set('authorization', authorization),
    delete: (path: string): request.Test =>
      request(url).delete(path).set('authorization', authorization),
  };
  /** One GraphQL request over HTTP with this suite's token. */
  const query = <T = Record<string, unknown>>(
    text: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> =>
    gql<T>(url, text, variables, { authorization });
  let fixtureId: string;
  let fixtureDigest: string;
  let variant = 0;
  const containers: string[] = [];
  const pushed: Array<{ repository: string; digest: string }> = [];

  /** A new image of this suite (FROM the fixture, one LABEL instruction), tagged `tag`; returns its id. */
  function build(
    tag: string,
    labels: Record<string, string> = {},
    from = fixture,
  ): string {
    if (from === fixture) ensureFixture();
    const dir = mkdtempSync(join(tmpdir(), 'drydock-e2e-ctx-'));
    try {
      const all = {
        [SUITE_LABEL]: ns,
        'drydock.e2e.variant': String(++variant),
        ...labels,
      };
      const label = Object.entries(all)
        .map(([key, value]) => `${key}="${value}"`)
        .join(' ');
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${from}\nLABEL ${label}\n`);
      const out = docker('build', '-q', '-t', tag, dir);
      const id = /sha256:[a-f0-9]{64}/.exec(out)?.[0];
      if (!id) throw new Error(`docker build printed no image id: ${out}`);
      return id;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function list(
    filter: Record<string, string | string[]> = {},
  ): Promise<ImageBody[]> {
    const res = await api.get('/v1/images').query(filter).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    return res.body as ImageBody[];
  }

  async function gqlImages(
    filter?: Record<string, unknown>,
  ): Promise<ImageBody[]> {
    const res = await query<{ images: ImageBody[] }>(
      `query($filter: ImageFilter) { images(filter: $filter) { ${IMAGE_FIELDS} } }`,
      { filter: filter ?? null },
    );
    expect(res.errors).toBeUndefined();
    return res.data?.images ?? [];
  }

  function tag(
    source: string,
    repository: string,
    tagName?: string,
    force?: boolean,
  ): request.Test {
    return api.post(`/v1/images/${enc(source)}/tags`).send({
      repository,
      ...(tagName !== undefined ? { tag: tagName } : {}),
      ...(force !== undefined ? { force } : {}),
    });
  }

  beforeAll(async () => {
    ensureFixture();
    fixtureId = inspectId(fixture);
    // The fixture was pushed, so it has a digest; push again if someone left it without one.
    if (
      !engineRepoDigests(fixture).some((d) => d.startsWith(`${fixtureRepo}@`))
    )
      docker('push', fixture);
    const digest = engineRepoDigests(fixture).find((d) =>
      d.startsWith(`${fixtureRepo}@`),
    );
    if (!digest)
      throw new Error(`fixture ${fixture} has no digest in ${fixtureRepo}`);
    fixtureDigest = digest.slice(digest.indexOf('@') + 1);
    // This suite makes many changes quickly: the per-token mutation budget is not what it tests.
    running = await startApp({
      DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0',
      // The registries the search tests ask; localhost:1 stands for one that is down.
      DRYDOCK_REGISTRIES_ALLOW: `${testEnv.registry},${testEnv.authRegistry},localhost:1`,
    });
    authorization = running.auth.authorization;
    url = running.url;
  });

  afterAll(async () => {
    await running?.close();
    for (const container of containers) {
      try {
        docker('rm', '-f', container);
      } catch {
        // Gone already.
      }
    }
    removeImagesLabelled(SUITE_LABEL, ns);
    // Tags this suite put on images it did not build (none should be left, but never leave one behind).
    for (const ref of docker(
      'images',
      '--format',
      '{{.Repository}}:{{.Tag}}',
    ).split('\n')) {
      if (ref.includes(ns) && !ref.endsWith(':<none>')) {
        try {
          docker('rmi', ref);
        } catch {
          // Gone already.
        }
      }
    }
    for (const { repository, digest } of pushed) {
      const [host, ...path] = repository.split('/');
      await fetch(`http://${host}/v2/${path.join('/')}/manifests/${digest}`, {
        method: 'DELETE',
      }).catch(() => undefined);
    }
  });

  describe('tags (docker tag 5db5f8471261 ouruser/sinatra:devel)', () => {
    it('tags an image by full id, by 12-hex short id, then by reference, and lists it under every tag', async () => {
      const id = build(`${repo}:base`);
      const shortId = id.slice('sha256:'.length, 'sha256:'.length + 12);

      const byId = await tag(id, repo, 'by-id').expect(201);
      expect(byId.body).toMatchObject({ id, shortId });
      expect(tagsOf(byId.body)).toContain(`${repo}:by-id`);

      const byShortId = await tag(shortId, repo, 'by-short-id').expect(201);
      expect(byShortId.body.id).toBe(id);

      // By reference, into the registry's namespace, the tag given inside `repository`.
      const byRef = await tag(`${repo}:by-id`, `${registryRepo}:devel`).expect(
        201,
      );
      expect(byRef.body.id).toBe(id);
      const expected = [
        `${repo}:base`,
        `${repo}:by-id`,
        `${repo}:by-short-id`,
        `${registryRepo}:devel`,
      ];
      expect(tagsOf(byRef.body).sort()).toEqual(expected.sort());

      // A repository without a tag means latest, as docker does.
      const latest = await tag(id, repo).expect(201);
      expect(latest.body.repoTags).toContainEqual({
        repository: repo,
        tag: 'latest',
      });
      expected.push(`${repo}:latest`);

      const listed = (await list()).filter((image) => image.id === id);
      expect(listed).toHaveLength(1);
      expect(tagsOf(listed).sort()).toEqual(expected.sort());
      expect(listed[0]).toMatchObject({
        shortId,
        containers: 0,
        labels: expect.arrayContaining([{ key: SUITE_LABEL, value: ns }]),
      });
      expect(listed[0]?.size).toBeGreaterThan(0);
      expect(new Date(listed[0]?.created ?? '').toISOString()).toBe(
        listed[0]?.created,
      );

      const viaGraphql = (await gqlImages()).filter((image) => image.id === id);
      expect(viaGraphql).toHaveLength(1);
      expect(tagsOf(viaGraphql).sort()).toEqual(expected.sort());
      expect(viaGraphql[0]?.shortId).toBe(shortId);

      // The engine agrees.
      expect(inspectId(`${registryRepo}:devel`)).toBe(id);
    });

    it('tags through the GraphQL tagImage mutation, by id and by reference', async () => {
      const id = build(`${repo}:gql-source`);
      const res = await query<{ tagImage: ImageBody }>(
        `mutation($source: String!, $repository: String!, $tag: String) { tagImage(source: $source, repository: $repository, tag: $tag) { ${IMAGE_FIELDS} } }`,
        { source: id, repository: repo, tag: 'gql-by-id' },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.tagImage.id).toBe(id);
      expect(tagsOf(present(res.data).tagImage)).toContain(`${repo}:gql-by-id`);

      const byRef = await query<{ tagImage: ImageBody }>(
        `mutation { tagImage(source: "${repo}:gql-by-id", repository: "${repo}:gql-by-ref") { id repoTags { repository tag } } }`,
      );
      expect(byRef.errors).toBeUndefined();
      expect(tagsOf(present(byRef.data).tagImage)).toEqual(
        expect.arrayContaining([
          `${repo}:gql-source`,
          `${repo}:gql-by-id`,
          `${repo}:gql-by-ref`,
        ]),
      );
      expect(inspectId(`${repo}:gql-by-ref`)).toBe(id);
    });

    it('refuses to move an existing tag of another image (409 TAG_EXISTS) unless forced', async () => {
      const first = build(`${repo}:shared`);
      const second = build(`${repo}:second`);

      const refused = await tag(second, repo, 'shared');
      expectProblem(refused, 409, 'TAG_EXISTS');
      expect(refused.body.detail).toContain(`${repo}:shared`);
      expect(inspectId(`${repo}:shared`)).toBe(first);

      const viaGraphql = await query(
        `mutation { tagImage(source: "${second}", repository: "${repo}", tag: "shared") { id } }`,
      );
      expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('TAG_EXISTS');
      expect(inspectId(`${repo}:shared`)).toBe(first);

      // Re-tagging the image that already has the tag is no conflict.
      await tag(first, repo, 'shared').expect(201);

      const forced = await tag(second, repo, 'shared', true).expect(201);
      expect(forced.body.id).toBe(second);
      expect(tagsOf(forced.body)).toContain(`${repo}:shared`);
      expect(inspectId(`${repo}:shared`)).toBe(second);
      const firstNow = await api.get(`/v1/images/${enc(first)}`).expect(200);
      expect(tagsOf(firstNow.body)).not.toContain(`${repo}:shared`);

      // And forced through GraphQL, back again.
      const back = await query<{ tagImage: ImageBody }>(
        `mutation { tagImage(source: "${first}", repository: "${repo}", tag: "shared", force: true) { id } }`,
      );
      expect(back.errors).toBeUndefined();
      expect(back.data?.tagImage.id).toBe(first);
      expect(inspectId(`${repo}:shared`)).toBe(first);
    });
  });

  describe('list filters (docker images ouruser/sinatra)', () => {
    let red: string;
    let blue: string;
    let dangling: string;

    beforeAll(() => {
      red = build(`${ns}/colours:red`, { 'drydock.e2e.colour': 'red' });
      blue = build(`${ns}/colours:blue`, { 'drydock.e2e.colour': 'blue' });
      docker('tag', blue, `${registryRepo}:blue`);
      // Building the same tag again leaves the first build dangling (<none>:<none>).
      dangling = build(`${ns}/colours:again`, { 'drydock.e2e.colour': 'none' });
      build(`${ns}/colours:again`, { 'drydock.e2e.colour': 'none' });
    });

    it('filters by repository as `docker images ouruser/sinatra`, and by repository:tag', async () => {
      const ids = await eventually(
        async () => {
          const found = (await list({ reference: `${ns}/colours` })).map(
            (i) => i.id,
          );
          return found.includes(red) && found.includes(blue)
            ? found
            : undefined;
        },
        10_000,
        'the colours repository listed',
      );
      const images = await list({ reference: `${ns}/colours` });
      expect(ids).not.toContain(dangling);
      for (const image of images)
        expect(image.repoTags.map((t) => t.repository)).toContain(
          `${ns}/colours`,
        );

      const one = await list({ reference: `${ns}/colours:red` });
      expect(one.map((i) => i.id)).toEqual([red]);

      const viaGraphql = await gqlImages({ reference: `${ns}/colours:blue` });
      expect(viaGraphql.map((i) => i.id)).toEqual([blue]);
      expect(tagsOf(viaGraphql)).toEqual(
        expect.arrayContaining([`${ns}/colours:blue`, `${registryRepo}:blue`]),
      );
    });

    it('filters by a glob: `*` stays within one path component, as Docker matches', async () => {
      const tags = tagsOf(await list({ reference: `${ns}/colours:*` }));
      expect(tags).toEqual(
        expect.arrayContaining([`${ns}/colours:red`, `${ns}/colours:blue`]),
      );

      const byNamespace = (await list({ reference: `${ns}/*` })).map(
        (i) => i.id,
      );
      expect(byNamespace).toEqual(expect.arrayContaining([red, blue]));

      // `*` does not cross the registry's "/": only the registry-qualified pattern finds that tag.
      const qualified = await list({
        reference: `${testEnv.registry}/${ns}/*`,
      });
      expect(qualified.map((i) => i.id)).toContain(blue);
      expect(qualified.map((i) => i.id)).not.toContain(red);

      const viaGraphql = await gqlImages({ reference: `${ns}/colours:r*` });
      expect(viaGraphql.map((i) => i.id)).toEqual([red]);
    });

    it('filters by label (key, key=value, several) and by dangling', async () => {
      const mine = await list({ label: `${SUITE_LABEL}=${ns}` });
      expect(mine.map((i) => i.id)).toEqual(
        expect.arrayContaining([red, blue, dangling]),
      );
      for (const image of mine)
        expect(image.labels).toContainEqual({ key: SUITE_LABEL, value: ns });

      const redOnly = await list({
        label: [`${SUITE_LABEL}=${ns}`, 'drydock.e2e.colour=red'],
      });
      expect(redOnly.map((i) => i.id)).toEqual([red]);
      const colourKey = (await list({ label: 'drydock.e2e.colour' })).map(
        (i) => i.id,
      );
      expect(colourKey).toEqual(expect.arrayContaining([red, blue, dangling]));

      const danglingOnly = await list({
        dangling: 'true',
        label: `${SUITE_LABEL}=${ns}`,
      });
      expect(danglingOnly.map((i) => i.id)).toEqual([dangling]);
      expect(danglingOnly[0]?.repoTags).toEqual([]);
      const tagged = (
        await list({ dangling: 'false', label: `${SUITE_LABEL}=${ns}` })
      ).map((i) => i.id);
      expect(tagged).toEqual(expect.arrayContaining([red, blue]));
      expect(tagged).not.toContain(dangling);

      const viaGraphql = await gqlImages({
        dangling: true,
        label: [`${SUITE_LABEL}=${ns}`],
      });
      expect(viaGraphql.map((i) => i.id)).toEqual([dangling]);
      const blueViaGraphql = await gqlImages({
        label: [`${SUITE_LABEL}=${ns}`, 'drydock.e2e.colour=blue'],
      });
      expect(blueViaGraphql.map((i) => i.id)).toEqual([blue]);
    });
  });

  describe('inspect and history (digests)', () => {
    beforeEach(() => ensureFixture());

    it('inspects the fixture by tag, by id prefix and by digest, always the same image', async () => {
      const byTag = await api.get(`/v1/images/${enc(fixture)}`).expect(200);
      expect(byTag.body).toMatchObject({
        id: fixtureId,
        shortId: fixtureId.slice(7, 19),
        os: 'linux',
      });
      expect(byTag.body.repoDigests).toContainEqual({
        repository: fixtureRepo,
        digest: fixtureDigest,
      });
      expect(byTag.body.config.cmd).toEqual(['/bin/sh']);

      for (const ref of [
        fixtureId,
        fixtureId.slice(7, 19),
        fixtureId.slice(7, 23),
        fixtureId.slice(0, 19),
        `${fixtureRepo}@${fixtureDigest}`,
      ]) {
        const res = await api.get(`/v1/images/${enc(ref)}`).expect(200);
        expect({ ref, id: res.body.id }).toEqual({ ref, id: fixtureId });
      }

      const viaGraphql = await query<{
        byDigest: ImageBody;
        byShortId: ImageBody;
      }>(
        `query($digest: String!, $short: String!) { byDigest: image(ref: $digest) { ${IMAGE_FIELDS} } byShortId: image(ref: $short) { id } }`,
        {
          digest: `${fixtureRepo}@${fixtureDigest}`,
          short: fixtureId.slice(7, 19),
        },
      );
      expect(viaGraphql.errors).toBeUndefined();
      expect(viaGraphql.data?.byDigest.id).toBe(fixtureId);
      expect(digestsOf(present(viaGraphql.data).byDigest)).toContain(
        `${fixtureRepo}@${fixtureDigest}`,
      );
      expect(viaGraphql.data?.byShortId.id).toBe(fixtureId);

      // REST and GraphQL give the same Image (tags and container counts aside: other suites share the fixture).
      const shared = new Set(['repoTags', 'repoDigests', 'containers']);
      const stable = (image: ImageBody) =>
        Object.fromEntries(
          Object.entries(image).filter(([key]) => !shared.has(key)),
        );
      expect(stable(present(viaGraphql.data).byDigest)).toEqual(stable(byTag.body));
      // And the engine's own creation time and size.
      expect(byTag.body.created).toBe(
        new Date(
          docker('image', 'inspect', '--format', '{{.Created}}', fixture),
        ).toISOString(),
      );
      expect(byTag.body.size).toBe(
        Number(docker('image', 'inspect', '--format', '{{.Size}}', fixture)),
      );
    });

    it('answers null from GraphQL image(ref) and 404 IMAGE_NOT_FOUND from REST for an absent image', async () => {
      const absent = await query<{ image: ImageBody | null }>(
        `{ image(ref: "${ns}/absent:nope") { id } }`,
      );
      expect(absent.errors).toBeUndefined();
      expect(absent.data).toEqual({ image: null });
      const absentId = await query<{ image: ImageBody | null }>(
        `{ image(ref: "sha256:${'0'.repeat(64)}") { id } }`,
      );
      expect(absentId.errors).toBeUndefined();
      expect(absentId.data).toEqual({ image: null });

      expectProblem(
        await api.get(`/v1/images/${enc(`${ns}/absent:nope`)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
      expectProblem(
        await api.get(`/v1/images/${enc(`${ns}/absent:nope`)}/history`),
        404,
        'IMAGE_NOT_FOUND',
      );
    });

    it('gives the history: every layer with the instruction that created it', async () => {
      const res = await api
        .get(`/v1/images/${enc(fixture)}/history`)
        .expect(200);
      const layers = res.body as LayerBody[];
      expect(layers.length).toBeGreaterThanOrEqual(3);
      const createdBy = layers.map((layer) => layer.createdBy).join('\n');
      expect(createdBy).toContain('COPY');
      expect(createdBy).toContain('busybox --install');
      expect(createdBy).toContain('CMD ["/bin/sh"]');
      // Newest first, as `docker history`: the top layer is the image itself, with its tags.
      expect(layers[0]).toMatchObject({
        id: fixtureId,
        tags: expect.arrayContaining([fixture]),
      });
      expect(layers.some((layer) => layer.size > 1_000_000)).toBe(true);
      for (const layer of layers)
        expect(new Date(layer.created).toISOString()).toBe(layer.created);

      const viaGraphql = await query<{ imageHistory: LayerBody[] }>(
        `{ imageHistory(ref: "${fixtureId}") { id created createdBy size comment tags } }`,
      );
      expect(viaGraphql.errors).toBeUndefined();
      expect(viaGraphql.data?.imageHistory.map((l) => l.createdBy)).toEqual(
        layers.map((l) => l.createdBy),
      );
    });
  });

  describe('remove (docker rmi)', () => {
    it('removes one tag of several (untagged only, nothing deleted), then the last tag (untagged and deleted)', async () => {
      const id = build(`${repo}:rm-1`);
      docker('tag', id, `${repo}:rm-2`);

      const first = await api
        .delete(`/v1/images/${enc(`${repo}:rm-1`)}`)
        .expect(200);
      expect(first.body).toEqual({ untagged: [`${repo}:rm-1`], deleted: [] });
      expect(inspectId(`${repo}:rm-2`)).toBe(id);

      const last = await api
        .delete(`/v1/images/${enc(`${repo}:rm-2`)}`)
        .expect(200);
      expect(last.body.untagged).toEqual([`${repo}:rm-2`]);
      expect(last.body.deleted).toContain(id);
      for (const deleted of last.body.deleted)
        expect(deleted).toMatch(/^sha256:[a-f0-9]{64}$/);
      expectProblem(
        await api.get(`/v1/images/${enc(id)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
      expect((await list()).map((i) => i.id)).not.toContain(id);
    });

    it('removes through the GraphQL removeImage mutation', async () => {
      const id = build(`${repo}:gql-rm`);
      const res = await query<{
        removeImage: { untagged: string[]; deleted: string[] };
      }>(
        `mutation($ref: String!) { removeImage(ref: $ref) { untagged deleted } }`,
        { ref: `${repo}:gql-rm` },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.removeImage.untagged).toEqual([`${repo}:gql-rm`]);
      expect(res.data?.removeImage.deleted).toContain(id);
      expect((await gqlImages()).map((i) => i.id)).not.toContain(id);
    });

    it('removes by digest reference (docker rmi repo@sha256:...), after a pull by digest', async () => {
      const pushedRepo = `${testEnv.registry}/${ns}/pushed`;
      const id = build(`${pushedRepo}:1`);
      docker('push', `${pushedRepo}:1`);
      const digestRef = present(
        engineRepoDigests(`${pushedRepo}:1`).find((d) => d.startsWith(`${pushedRepo}@`)),
        'a repo digest',
      );
      expect(digestRef).toMatch(/@sha256:[a-f0-9]{64}$/);
      pushed.push({
        repository: pushedRepo,
        digest: present(digestRef.split('@')[1]),
      });

      // Removing the tag also removes the digest reference of the same repository: the image goes.
      docker('rmi', `${pushedRepo}:1`);
      docker('pull', digestRef);
      expect(inspectId(digestRef)).toBe(id);

      // Pulled by digest only: no tag, one digest, listed as such.
      const listed = await eventually(
        async () => (await list()).find((i) => i.id === id),
        10_000,
        'the image pulled by digest listed',
      );
      expect(listed.repoTags).toEqual([]);
      expect(digestsOf(listed)).toEqual([digestRef]);
      // `docker images REPO` shows it (as REPO <none>), and so does the repository filter.
      expect(docker('images', '-q', '--no-trunc', pushedRepo)).toBe(id);
      expect((await list({ reference: pushedRepo })).map((i) => i.id)).toEqual([
        id,
      ]);
      expect(
        (await gqlImages({ reference: `${testEnv.registry}/${ns}/*` })).map(
          (i) => i.id,
        ),
      ).toContain(id);

      const inspected = await api
        .get(`/v1/images/${enc(digestRef)}`)
        .expect(200);
      expect(inspected.body.id).toBe(id);

      const removed = await api
        .delete(`/v1/images/${enc(digestRef)}`)
        .expect(200);
      expect(removed.body.untagged).toEqual([digestRef]);
      expect(removed.body.deleted).toContain(id);
      expectProblem(
        await api.get(`/v1/images/${enc(digestRef)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
    });

    it('answers 404 IMAGE_NOT_FOUND for an unknown image, by reference and by id, over REST and GraphQL', async () => {
      expectProblem(
        await api.delete(`/v1/images/${enc(`${ns}/never:there`)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
      expectProblem(
        await api.delete(`/v1/images/${enc(`sha256:${'0'.repeat(64)}`)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
      expectProblem(
        await api
          .post(`/v1/images/${enc(`${ns}/never:there`)}/tags`)
          .send({ repository: repo, tag: 'x' }),
        404,
        'IMAGE_NOT_FOUND',
      );
      const viaGraphql = await query(
        `mutation { removeImage(ref: "${ns}/never:there") { untagged deleted } }`,
      );
      expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('IMAGE_NOT_FOUND');
    });

    it('refuses to remove by id an image tagged in several repositories (409 CONFLICT, not IMAGE_IN_USE) unless forced', async () => {
      const id = build(`${ns}/first-repo:1`);
      docker('tag', id, `${ns}/second-repo:1`);

      const refused = await api.delete(`/v1/images/${enc(id)}`);
      expectProblem(refused, 409, 'CONFLICT');
      expect(refused.body.detail).toMatch(
        /referenced in multiple repositories/,
      );
      expect(inspectId(`${ns}/second-repo:1`)).toBe(id);

      const forced = await api
        .delete(`/v1/images/${enc(id.slice(7, 19))}?force=true`)
        .expect(200);
      expect(forced.body.untagged.sort()).toEqual([
        `${ns}/first-repo:1`,
        `${ns}/second-repo:1`,
      ]);
      expect(forced.body.deleted).toContain(id);
    });

    it('refuses (409 CONFLICT) to remove by id an image other images are built on, even when forced', async () => {
      const parent = build(`${ns}/parent:1`);
      const child = build(`${ns}/child:1`, {}, `${ns}/parent:1`);

      for (const force of ['false', 'true']) {
        const refused = await api
          .delete(`/v1/images/${enc(parent)}`)
          .query({ force });
        expectProblem(refused, 409, 'CONFLICT');
        expect(refused.body.detail).toMatch(/dependent child images/);
      }
      expect(inspectId(`${ns}/parent:1`)).toBe(parent);
      expect(inspectId(`${ns}/child:1`)).toBe(child);
    });

    it('refuses (409 IMAGE_IN_USE) to remove an image a container uses, and removes it when forced', async () => {
      const ref = `${ns}/in-use:1`;
      const id = build(ref);
      const container = docker(
        'create',
        '--label',
        `${SUITE_LABEL}=${ns}`,
        ref,
        'true',
      );
      containers.push(container);

      // The catalogue counts the container once the engine's create event arrived.
      await eventually(
        async () => {
          const res = await api.get(`/v1/images/${enc(ref)}`).expect(200);
          return res.body.containers === 1 ? true : undefined;
        },
        10_000,
        'the container counted',
      );

      const refused = await api.delete(`/v1/images/${enc(ref)}`);
      expectProblem(refused, 409, 'IMAGE_IN_USE');
      expect(refused.body.detail).toContain(container.slice(0, 12));
      const refusedById = await api.delete(`/v1/images/${enc(id)}`);
      expectProblem(refusedById, 409, 'IMAGE_IN_USE');
      const viaGraphql = await query(
        `mutation { removeImage(ref: "${ref}") { untagged deleted } }`,
      );
      expect(viaGraphql.errors?.[0]?.extensions?.code).toBe('IMAGE_IN_USE');
      expect(inspectId(ref)).toBe(id);

      const forced = await api
        .delete(`/v1/images/${enc(ref)}`)
        .query({ force: 'true' })
        .expect(200);
      expect(forced.body.untagged).toEqual([ref]);
      expect(forced.body.deleted).toContain(id);
      expectProblem(
        await api.get(`/v1/images/${enc(ref)}`),
        404,
        'IMAGE_NOT_FOUND',
      );
    });
  });

  describe('prune', () => {
    it('prunes dangling images, restricted by label so no other image is touched (REST, then GraphQL)', async () => {
      const pruneLabel = `drydock.e2e.prune=${ns}`;
      const ref = `${ns}/prunable:1`;
      const firstBuild = build(ref, { 'drydock.e2e.prune': ns });
      const secondBuild = build(ref, { 'drydock.e2e.prune': ns });
      expect(secondBuild).not.toBe(firstBuild);
      expect(inspectId(ref)).toBe(secondBuild);

      const danglingNow = await eventually(
        async () => {
          const ids = (await list({ dangling: 'true', label: pruneLabel })).map(
            (i) => i.id,
          );
          return ids.includes(firstBuild) ? ids : undefined;
        },
        10_000,
        'the first build listed as dangling',
      );
      expect(danglingNow).toEqual([firstBuild]);

      const res = await api
        .post('/v1/images/prune')
        .send({ dangling: true, labels: [pruneLabel] })
        .expect(200);
      expect(res.body.deleted).toContain(firstBuild);
      expect(res.body.deleted).not.toContain(secondBuild);
      expect(res.body.spaceReclaimed).toBeGreaterThanOrEqual(0);
      for (const entry of res.body.deleted)
        expect(entry).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(inspectId(ref)).toBe(secondBuild);
      expect(
        (await list({ dangling: 'true', label: pruneLabel })).map((i) => i.id),
      ).toEqual([]);

      // A third build makes the second dangling; GraphQL prunes it.
      const thirdBuild = build(ref, { 'drydock.e2e.prune': ns });
      const viaGraphql = await query<{
        pruneImages: { deleted: string[]; spaceReclaimed: number };
      }>(
        `mutation($input: PruneImagesInput) { pruneImages(input: $input) { deleted spaceReclaimed } }`,
        { input: { dangling: true, labels: [pruneLabel] } },
      );
      expect(viaGraphql.errors).toBeUndefined();
      expect(viaGraphql.data?.pruneImages.deleted).toContain(secondBuild);
      expect(viaGraphql.data?.pruneImages.deleted).not.toContain(thirdBuild);
      expect(
        viaGraphql.data?.pruneImages.spaceReclaimed,
      ).toBeGreaterThanOrEqual(0);
      expect(inspectId(ref)).toBe(thirdBuild);
      expect(
        (await gqlImages({ dangling: true, label: [pruneLabel] })).map(
          (i) => i.id,
        ),
      ).toEqual([]);
    });
  });

  describe('search (docker search)', () => {
    it("searches the private registry's catalogue", async () => {
      const res = await api
        .get('/v1/search')
        .query({ term: 'busybox', registry: testEnv.registry })
        .expect(200);
      const hit = (res.body as Array<{ name: string; registry: string }>).find(
        (r) => r.name.endsWith('drydock-fixture/busybox'),
      );
      expect(hit).toMatchObject({
        registry: testEnv.registry,
        official: false,
        automated: false,
        stars: 0,
        description: expect.any(String),
      });

      const none = await api
        .get('/v1/search')
        .query({ term: `${ns}-nothing-like-this`, registry: testEnv.registry })
        .expect(200);
      expect(none.body).toEqual([]);

      const viaGraphql = await query<{
        searchImages: Array<{ name: string; registry: string }>;
      }>(
        `{ searchImages(term: "drydock-fixture", registry: "${testEnv.registry}", limit: 10) { name description stars official automated registry } }`,
      );
      expect(viaGraphql.errors).toBeUndefined();
      expect(
        viaGraphql.data?.searchImages
          .map((r) => r.name)
          .some((n) => n.endsWith('drydock-fixture/busybox')),
      ).toBe(true);
    });

    it('answers 502 for a private registry that is down, or that wants a login Drydock does not hold', async () => {
      const started = Date.now();
      expectProblem(
        await api
          .get('/v1/search')
          .query({ term: 'busybox', registry: 'localhost:1' }),
        502,
        'REGISTRY_UNREACHABLE',
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      expectProblem(
        await api
          .get('/v1/search')
          .query({ term: 'busybox', registry: testEnv.authRegistry }),
        502,
        'REGISTRY_UNAUTHORIZED',
      );
    });

    it('answers a Docker Hub search, unreachable from here, with 502 REGISTRY_UNREACHABLE within 15 s (REST and GraphQL)', async () => {
      let started = Date.now();
      const res = await api.get('/v1/search').query({ term: 'sinatra' });
      expect(Date.now() - started).toBeLessThan(15_000);
      expectProblem(res, 502, 'REGISTRY_UNREACHABLE');

      started = Date.now();
      const viaGraphql = await query(
        `{ searchImages(term: "sinatra") { name } }`,
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(viaGraphql.errors?.[0]?.extensions?.code).toBe(
        'REGISTRY_UNREACHABLE',
      );
    });
  });

  describe('never a stale answer', () => {
    it('shows a tag made through the API in the very next list, and drops a removed one as quickly', async () => {
      const id = build(`${repo}:fresh-source`);
      await list(); // warms the cache
      await gqlImages();

      await tag(id, `${ns}/fresh`, 'rest').expect(201);
      expect(tagsOf(await list())).toContain(`${ns}/fresh:rest`);
      expect(tagsOf(await gqlImages())).toContain(`${ns}/fresh:rest`);

      await api.delete(`/v1/images/${enc(`${ns}/fresh:rest`)}`).expect(200);
      expect(tagsOf(await list())).not.toContain(`${ns}/fresh:rest`);
      expect(tagsOf(await gqlImages())).not.toContain(`${ns}/fresh:rest`);

      const viaGraphql = await query(
        `mutation { tagImage(source: "${id}", repository: "${ns}/fresh", tag: "gql") { id } }`,
      );
      expect(viaGraphql.errors).toBeUndefined();
      expect(tagsOf(await list())).toContain(`${ns}/fresh:gql`);
      await query(
        `mutation { removeImage(ref: "${ns}/fresh:gql") { untagged } }`,
      );
      expect(tagsOf(await gqlImages())).not.toContain(`${ns}/fresh:gql`);
    });

    it('sees a tag made with the docker CLI, outside Drydock, once the engine reports it', async () => {
      const id = build(`${repo}:cli-source`);
      await list(); // warms the cache

      docker('tag', id, `${ns}/outside:cli`);
      await eventually(
        async () =>
          tagsOf(await list()).includes(`${ns}/outside:cli`) ? true : undefined,
        10_000,
        'the CLI tag listed',
      );
      await eventually(
        async () =>
          tagsOf(await gqlImages()).includes(`${ns}/outside:cli`)
            ? true
            : undefined,
        10_000,
        'the CLI tag in GraphQL',
      );

      docker('rmi', `${ns}/outside:cli`);
      await eventually(
        async () =>
          tagsOf(await list()).includes(`${ns}/outside:cli`) ? undefined : true,
        10_000,
        'the CLI untag listed',
      );
    });

    it("lists exactly what the engine's own `docker images --digests --no-trunc` says after a burst of changes", async () => {
      const a = build(`${ns}/burst:a`);
      const b = build(`${ns}/burst:b`);
      await list(); // warms the cache

      // A burst from both sides: Drydock and the docker CLI, tags and removals interleaved
      // (b keeps a tag throughout, so removing burst:b only untags it).
      docker('tag', b, `${ns}/burst:cli-2`);
      await Promise.all([
        tag(a, `${ns}/burst`, 'api-1').expect(201),
        tag(b, `${ns}/burst`, 'api-2').expect(201),
        tag(a, `${registryRepo}`, 'burst').expect(201),
        api.delete(`/v1/images/${enc(`${ns}/burst:b`)}`).expect(200),
      ]);
      docker('tag', a, `${ns}/burst:cli-1`);
      docker('rmi', `${ns}/burst:a`);
      await tag(b, `${ns}/burst`, 'api-3').expect(201);
      docker('rmi', `${ns}/burst:api-1`);

      const expectedMine = [
        `${ns}/burst:api-2`,
        `${ns}/burst:api-3`,
        `${ns}/burst:cli-1`,
        `${ns}/burst:cli-2`,
        `${registryRepo}:burst`,
      ].sort();

      interface Snapshot {
        ids: string[];
        tags: string[];
        digests: string[];
      }
      const engineSnapshot = (): Snapshot => {
        const rows = docker(
          'images',
          '--digests',
          '--no-trunc',
          '--format',
          '{{.ID}}\t{{.Repository}}\t{{.Tag}}\t{{.Digest}}',
        )
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split('\t') as [string, string, string, string]);
        return {
          ids: [...new Set(rows.map(([id]) => id))].sort(),
          tags: [
            ...new Set(
              rows
                .filter(([, , t]) => t !== '<none>')
                .map(([, r, t]) => `${r}:${t}`),
            ),
          ].sort(),
          digests: [
            ...new Set(
              rows
                .filter(([, , , d]) => d !== '<none>')
                .map(([, r, , d]) => `${r}@${d}`),
            ),
          ].sort(),
        };
      };
      const drydockSnapshot = (images: ImageBody[]): Snapshot => ({
        ids: [...new Set(images.map((i) => i.id))].sort(),
        tags: [...new Set(tagsOf(images))].sort(),
        digests: [...new Set(digestsOf(images))].sort(),
      });

      // Other suites may be changing the engine too: compare inside a window where the engine stood still.
      const agreed = await eventually(
        async () => {
          const before = engineSnapshot();
          const rest = drydockSnapshot(await list());
          const graphql = drydockSnapshot(await gqlImages());
          const after = engineSnapshot();
          const same = (x: Snapshot, y: Snapshot): boolean =>
            JSON.stringify(x) === JSON.stringify(y);
          return same(before, after) &&
            same(rest, before) &&
            same(graphql, before)
            ? rest
            : undefined;
        },
        60_000,
        'Drydock and the engine agreeing on the list',
      );
      expect(
        agreed.tags.filter((t) => t.includes(ns) && t.includes('burst')),
      ).toEqual(expectedMine);
      expect(agreed.ids).toEqual(expect.arrayContaining([a, b]));
    });
  });

  describe('engine', () => {
    it('reports the engine version and API version over GraphQL', async () => {
      const res = await query<{
        engine: {
          version: string;
          apiVersion: string;
          os: string;
          images: number;
        };
      }>(
        '{ engine { version apiVersion os architecture kernelVersion images containers containersRunning storageDriver rootDir } }',
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.engine.version).toBe(
        docker('version', '--format', '{{.Server.Version}}'),
      );
      expect(res.data?.engine.apiVersion).toBe(
        docker('version', '--format', '{{.Server.APIVersion}}'),
      );
      expect(res.data?.engine.os).toBe('linux');
      expect(res.data?.engine.images).toBeGreaterThan(0);
    });
  });
});
