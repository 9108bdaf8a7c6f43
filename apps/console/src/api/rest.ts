import { call, send, seg } from './http';
import type { BuildRequest, BuildTarOptions, Engine, Image, ImageLayer, Job, JobState, JobType, Me, RemoveImageResult } from './types';

/** Names follow the OpenAPI operationIds, so @drydock/client can replace these one for one. */

export const getMe = (token?: string) => call<Me>('GET', '/v1/me', { token });
export const listEngines = () => call<Engine[]>('GET', '/v1/engines');

export const listImages = (engine?: string) => call<Image[]>('GET', '/v1/images', { query: { engine } });
export const inspectImage = (ref: string, engine?: string) => call<Image>('GET', `/v1/images/${seg(ref)}`, { query: { engine } });
export const imageHistory = (ref: string, engine?: string) => call<ImageLayer[]>('GET', `/v1/images/${seg(ref)}/history`, { query: { engine } });
export const tagImage = (ref: string, repository: string, tag: string, engine?: string) =>
  call<Image>('POST', `/v1/images/${seg(ref)}/tags`, { body: { repository, tag }, query: { engine } });
export const removeImage = (ref: string, force = false, engine?: string) =>
  call<RemoveImageResult>('DELETE', `/v1/images/${seg(ref)}`, { query: { force: force || undefined, engine } });
export const pullImage = (reference: string, engine?: string) => call<Job>('POST', '/v1/images/pull', { body: { reference, engine: engine || undefined } });
export const pushImage = (ref: string, allTags = false, engine?: string) =>
  call<Job>('POST', `/v1/images/${seg(ref)}/push`, { body: { allTags, engine: engine || undefined } });
export const exportImage = (ref: string, references: string[]) => call<Job>('POST', `/v1/images/${seg(ref)}/export`, { body: { references } });

/** The tar an EXPORT job saved, as a Blob: a plain link could not carry the bearer token. */
export async function jobArtifact(id: string): Promise<Blob> {
  return (await send('GET', `/v1/jobs/${seg(id)}/artifact`)).blob();
}

export const buildImage = (request: BuildRequest) => call<Job>('POST', '/v1/builds', { body: request });
/** A build from a tar context: the Engine API's own query parameters, the tar as the body. */
export const buildImageFromTar = (context: Blob, options: BuildTarOptions) =>
  call<Job>('POST', '/v1/builds', {
    body: context,
    contentType: 'application/x-tar',
    query: {
      t: options.tags,
      secret: options.secrets,
      dockerfile: options.dockerfile,
      engine: options.engine,
      buildargs: options.buildArgs && Object.keys(options.buildArgs).length ? JSON.stringify(options.buildArgs) : undefined,
    },
  });

export interface JobFilter {
  type?: JobType;
  state?: JobState;
  team?: string;
  engine?: string;
  limit?: number;
}
export const listJobs = (filter: JobFilter = {}) => call<Job[]>('GET', '/v1/jobs', { query: { ...filter } });
export const getJob = (id: string) => call<Job>('GET', `/v1/jobs/${seg(id)}`);
export const cancelJob = (id: string) => call<Job>('DELETE', `/v1/jobs/${seg(id)}`);
