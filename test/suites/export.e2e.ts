import { createDrydockClient, dataOf, DrydockGraphQLError, DrydockProblemError, TypedDocumentString, type DrydockClient, type Job } from '@drydock/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTwoTeamApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';

/** exportImages is no operation of the client's own documents: a suite can type one of its own the same way. */
const ExportImagesDocument = new TypedDocumentString<{ exportImages: Pick<Job, 'id' | 'type' | 'state' | 'request'> }, { input: { references: string[] } }>(
  'mutation ExportImages($input: ExportImagesInput!) { exportImages(input: $input) { id type state request } }',
);

/** The problem a refused call threw, for assertions on its status and code. */
async function refusal(call: Promise<unknown>): Promise<DrydockProblemError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DrydockProblemError)) throw new Error(`expected a DrydockProblemError, got ${String(error)}`);
  return error;
}

describe('image export: docker save as an EXPORT job, its tar downloaded and loaded back (through @drydock/client)', () => {
  const ns = uniqueNamespace('e2e-export');
  const tagged = [`${ns}/team-a/app:1`, `${ns}/team-a/app:2`];
  const work = mkdtempSync(join(tmpdir(), 'drydock-export-'));
  let running: RunningApp;
  let imageId: string;
  let buildJobId: string;
  const clients: Record<string, DrydockClient> = {};

  beforeAll(async () => {
    running = await startTwoTeamApp(ns);
    for (const name of ['builder-a', 'viewer-a', 'builder-b']) clients[name] = createDrydockClient({ baseUrl: running.url, token: running.tokens[name] });
    const accepted = dataOf(await as('builder-a').POST('/v1/builds', { body: { dockerfile: `FROM ${testEnv.fixture}\nRUN echo exported > /exported`, tags: tagged } }));
    buildJobId = accepted.id;
    const built = await as('builder-a').waitForJob(buildJobId);
    expect(built.state).toBe('SUCCEEDED');
    imageId = built.result?.imageId as string;
  });
  afterAll(async () => {
    removeImagesUnder(ns);
    rmSync(work, { recursive: true, force: true });
    await running.close();
  });

  const as = (name: string): DrydockClient => clients[name] as DrydockClient;
  const exportAs = (name: string, ref: string, references?: string[]) =>
    as(name).POST('/v1/images/{ref}/export', { params: { path: { ref } }, body: references ? { references } : {} });
  const artifactAs = (name: string, id: string) => as(name).GET('/v1/jobs/{id}/artifact', { params: { path: { id } }, parseAs: 'arrayBuffer' });

  it('exports two tags, and the downloaded tar loaded with docker load gives back the same image id and tags', async () => {
    const answer = await exportAs('builder-a', tagged[0] as string, [tagged[1] as string]);
    const { response } = answer;
    const job = dataOf(answer);
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ type: 'EXPORT', state: 'QUEUED' });

    const done = await as('builder-a').waitForJob(job.id);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.result?.tags).toEqual(tagged);

    const download = await artifactAs('builder-a', job.id);
    expect(download.response.status).toBe(200);
    expect(download.response.headers.get('content-type')).toBe('application/x-tar');
    const tar = Buffer.from(download.data as unknown as ArrayBuffer);
    expect(Number(download.response.headers.get('content-length'))).toBe(tar.length);
    expect((done.result as { artifactBytes?: number }).artifactBytes).toBe(tar.length);
    const file = join(work, 'export.tar');
    writeFileSync(file, tar);

    docker('rmi', ...tagged);
    expect(docker('images', '-q', '--no-trunc').split('\n')).not.toContain(imageId);
    docker('load', '-i', file);
    for (const ref of tagged) expect(docker('image', 'inspect', '--format', '{{.Id}}', ref)).toBe(imageId);
    const tags = JSON.parse(docker('image', 'inspect', '--format', '{{json .RepoTags}}', imageId)) as string[];
    expect(tags.sort()).toEqual([...tagged].sort());
  });

  it('refuses a viewer, and a builder naming a reference outside its namespaces, with 403 before any job', async () => {
    expect(await refusal(exportAs('viewer-a', tagged[0] as string))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(exportAs('builder-b', tagged[0] as string))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    // One foreign reference among its own refuses the whole export.
    expect(await refusal(exportAs('builder-b', `${ns}/team-b/app:1`, [tagged[1] as string]))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const { data: teamB } = await as('builder-b').GET('/v1/jobs', { params: { query: { type: 'EXPORT' } } });
    expect(teamB).toEqual([]);
  });

  it('refuses a bare image id from a builder, which names no repository to check', async () => {
    const byId = await refusal(exportAs('builder-a', imageId));
    expect(byId).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(byId.detail).toContain('image id');
  });

  it("hides an export's artifact from another team as if the job did not exist, and has none for a build", async () => {
    const accepted = dataOf(await exportAs('builder-a', tagged[0] as string));
    await as('builder-a').waitForJob(accepted.id);
    expect(await refusal(artifactAs('builder-b', accepted.id))).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect((await artifactAs('viewer-a', accepted.id)).response.status).toBe(200);
    expect(await refusal(artifactAs('builder-a', buildJobId))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('queues the same EXPORT job through GraphQL exportImages, with the same refusals', async () => {
    const { exportImages } = await as('builder-a').request(ExportImagesDocument, { input: { references: tagged } });
    expect(exportImages).toMatchObject({ type: 'EXPORT', request: { references: tagged } });
    const done = await as('builder-a').waitForJob(exportImages.id);
    expect(done).toMatchObject({ state: 'SUCCEEDED', result: { tags: tagged } });

    const refused = await as('builder-b')
      .request(ExportImagesDocument, { input: { references: tagged } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DrydockGraphQLError);
    expect((refused as DrydockGraphQLError).code).toBe('FORBIDDEN');
  });
});
