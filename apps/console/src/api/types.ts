import type { components, graphql } from '@drydock/client';

/** The API's shapes, as the client generated them: REST answers from the OpenAPI document, live ones from the GraphQL operations. */
type Schemas = components['schemas'];

export type Me = Schemas['MeModel'];
export type Role = Me['role'];
export type Image = Schemas['Image'];
export type ImageLayer = Schemas['ImageLayer'];
export type RemoveImageResult = Schemas['RemoveImageResult'];
export type Engine = Schemas['EngineModel'];
export type BuildRequest = Schemas['BuildImageInput'];

export type Job = Schemas['JobModel'];
export type JobType = Job['type'];
export type JobState = Job['state'];
/** A job as the list shows it: what both a REST listing and a jobUpdated payload carry. */
export type JobSummary = Pick<Job, 'id' | 'type' | 'state' | 'progress' | 'team' | 'engine' | 'position' | 'createdAt'>;

export const JOB_TYPES: readonly JobType[] = ['PULL', 'PUSH', 'BUILD', 'RUN', 'EXPORT'];
export const JOB_STATES: readonly JobState[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const TERMINAL: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** A job's events arrive over the jobEvents subscription. */
export type JobEvent = graphql.JobEventFieldsFragment;
export type JobLayer = NonNullable<JobEvent['layer']>;
export type JobStep = NonNullable<JobEvent['step']>;
export type JobResult = NonNullable<JobEvent['result']>;
export type JobError = NonNullable<JobEvent['error']>;
