import { buildTar, dataOf, type BuildTarOptions } from '@drydock/client';
import { clientFor, drydock } from './client';
import type { BuildRequest, JobState, JobType } from './types';

/** The calls the console makes, each one typed by the OpenAPI document through @drydock/client. */

/** `token` checks a token before signing in with it; absent, the session's. */
export const getMe = async (token?: string) => dataOf(await (token === undefined ? drydock() : clientFor(token)).GET('/v1/me'));
export const listEngines = async () => dataOf(await drydock().GET('/v1/engines'));

const onEngine = (engine: string | undefined) => ({ engine: engine || undefined });

export const listImages = async (engine?: string) => dataOf(await drydock().GET('/v1/images', { params: { query: onEngine(engine) } }));
export const inspectImage = async (ref: string, engine?: string) =>
  dataOf(await drydock().GET('/v1/images/{ref}', { params: { path: { ref }, query: onEngine(engine) } }));
export const imageHistory = async (ref: string, engine?: string) =>
  dataOf(await drydock().GET('/v1/images/{ref}/history', { params: { path: { ref }, query: onEngine(engine) } }));
export const tagImage = async (ref: string, repository: string, tag: string, engine?: string) =>
  dataOf(await drydock().POST('/v1/images/{ref}/tags', { params: { path: { ref }, query: onEngine(engine) }, body: { repository, tag } }));
export const removeImage = async (ref: string, force = false, engine?: string) =>
  dataOf(await drydock().DELETE('/v1/images/{ref}', { params: { path: { ref }, query: { ...onEngine(engine), force: force || undefined } } }));
export const pullImage = async (reference: string, engine?: string) => dataOf(await drydock().POST('/v1/images/pull', { body: { reference, ...onEngine(engine) } }));
export const pushImage = async (ref: string, allTags = false, engine?: string) =>
  dataOf(await drydock().POST('/v1/images/{ref}/push', { params: { path: { ref } }, body: { allTags, ...onEngine(engine) } }));
export const exportImage = async (ref: string, references: string[]) => dataOf(await drydock().POST('/v1/images/{ref}/export', { params: { path: { ref } }, body: { references } }));

/** The tar an EXPORT job saved, as a Blob: a plain link could not carry the bearer token. */
export const jobArtifact = async (id: string) => dataOf(await drydock().GET('/v1/jobs/{id}/artifact', { params: { path: { id } }, parseAs: 'blob' }));

export const buildImage = async (request: BuildRequest) => dataOf(await drydock().POST('/v1/builds', { body: request }));
/** A build from a tar context (a chosen file, or a folder packed in the browser). */
export const buildImageFromTar = (context: Blob, options: BuildTarOptions) => buildTar(drydock(), context, options);

export interface JobFilter {
  type?: JobType;
  state?: JobState;
  team?: string;
  engine?: string;
  limit?: number;
}
export const listJobs = async (filter: JobFilter = {}) => dataOf(await drydock().GET('/v1/jobs', { params: { query: { ...filter } } }));
export const getJob = async (id: string) => dataOf(await drydock().GET('/v1/jobs/{id}', { params: { path: { id } } }));
export const cancelJob = async (id: string) => dataOf(await drydock().DELETE('/v1/jobs/{id}', { params: { path: { id } } }));
