import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTwoTeamApp, type RunningApp } from '../support/app';
import { docker, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { gql } from '../support/graphql';
import { api } from '../support/http';
import { expectProblem } from '../support/problem';
import { waitForJob, type JobJson } from '../support/jobs';

describe('image export: docker save as an EXPORT job, its tar downloaded and loaded back', () => {
  const ns = uniqueNamespace('e2e-export');
  const tagged = [`${ns}/team-a/app:1`, `${ns}/team-a/app:2`];
  const work = mkdtempSync(join(tmpdir(), 'drydock-export-'));
  let running: RunningApp;
  let imageId: string;
  let buildJobId: string;

  beforeAll(async () => {
    running = await startTwoTeamApp(ns);
    const accepted = await api(running, running.tokens['builder-a'])
      .post('/v1/builds')
      .send({ dockerfile: `FROM ${testEnv.fixture}\nRUN echo exported > /exported`, tags: tagged })
      .expect(202);
    buildJobId = accepted.body.id;
    const built = await waitForJob(running.url, running.tokens['builder-a'] as string, buildJobId);
    expect(built.state).toBe('SUCCEEDED');
    imageId = built.result?.imageId as string;
  });
  afterAll(async () => {
    removeImagesUnder(ns);
    rmSync(work, { recursive: true, force: true });
    await running.close();
  });

  const exportAs = (token: string | undefined, ref: string, references?: string[]) =>
    api(running, token).post(`/v1/images/${encodeURIComponent(ref)}/export`).send(references ? { references } : {});

  it('exports two tags, and the downloaded tar loaded with docker load gives back the same image id and tags', async () => {
    const builderA = running.tokens['builder-a'] as string;
    const accepted = await exportAs(builderA, tagged[0] as string, [tagged[1] as string]).expect(202);
    const job = accepted.body as JobJson;
    expect(accepted.headers['location']).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ type: 'EXPORT', state: 'QUEUED' });

    const done = await waitForJob(running.url, builderA, job.id);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.result?.tags).toEqual(tagged);

    const download = await fetch(`${running.url}/v1/jobs/${job.id}/artifact`, { headers: { authorization: `Bearer ${builderA}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/x-tar');
    const tar = Buffer.from(await download.arrayBuffer());
    expect(Number(download.headers.get('content-length'))).toBe(tar.length);
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
    expectProblem(await exportAs(running.tokens['viewer-a'], tagged[0] as string), 403, 'FORBIDDEN');
    expectProblem(await exportAs(running.tokens['builder-b'], tagged[0] as string), 403, 'FORBIDDEN');
    // One foreign reference among its own refuses the whole export.
    expectProblem(await exportAs(running.tokens['builder-b'], `${ns}/team-b/app:1`, [tagged[1] as string]), 403, 'FORBIDDEN');
    const teamB = await api(running, running.tokens['builder-b']).get('/v1/jobs?type=EXPORT').expect(200);
    expect(teamB.body).toEqual([]);
  });

  it('refuses a bare image id from a builder, which names no repository to check', async () => {
    const byId = await exportAs(running.tokens['builder-a'], imageId).expect(403);
    expect(byId.body).toMatchObject({ code: 'FORBIDDEN' });
    expect(byId.body.detail).toContain('image id');
  });

  it("hides an export's artifact from another team as if the job did not exist, and has none for a build", async () => {
    const builderA = running.tokens['builder-a'] as string;
    const accepted = await exportAs(builderA, tagged[0] as string).expect(202);
    await waitForJob(running.url, builderA, accepted.body.id);
    expectProblem(await api(running, running.tokens['builder-b']).get(`/v1/jobs/${accepted.body.id}/artifact`), 404, 'JOB_NOT_FOUND');
    await api(running, running.tokens['viewer-a']).get(`/v1/jobs/${accepted.body.id}/artifact`).expect(200);
    expectProblem(await api(running, builderA).get(`/v1/jobs/${buildJobId}/artifact`), 404, 'NOT_FOUND');
  });

  it('queues the same EXPORT job through GraphQL exportImages, with the same refusals', async () => {
    const builderA = running.tokens['builder-a'] as string;
    const mutation = 'mutation($input: ExportImagesInput!) { exportImages(input: $input) { id type state request } }';
    const queued = await gql<{ exportImages: JobJson }>(running.url, mutation, { input: { references: tagged } }, { authorization: `Bearer ${builderA}` });
    expect(queued.errors).toBeUndefined();
    expect(queued.data?.exportImages).toMatchObject({ type: 'EXPORT', request: { references: tagged } });
    const done = await waitForJob(running.url, builderA, queued.data?.exportImages.id as string);
    expect(done).toMatchObject({ state: 'SUCCEEDED', result: { tags: tagged } });

    const refused = await gql(running.url, mutation, { input: { references: tagged } }, { authorization: `Bearer ${running.tokens['builder-b']}` });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
