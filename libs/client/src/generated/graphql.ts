/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type BuildImageInput = {
  buildArgs?: unknown;
  /** BUILDKIT where the engine has it unless asked otherwise */
  builder?: Builder | null | undefined;
  /** images whose inline cache the build may reuse (BuildKit) */
  cacheFrom?: Array<string> | null | undefined;
  /** a context uploaded with POST /v1/builds/contexts */
  contextUploadId?: string | null | undefined;
  /** the Dockerfile text; or give contextUploadId */
  dockerfile?: string | null | undefined;
  /** `-f`: where the Dockerfile is in the context */
  dockerfilePath?: string | null | undefined;
  /** the engine to build on; absent, the healthy engine with the fewest waiting jobs */
  engine?: string | null | undefined;
  /** path -> base64 content, packed into the context */
  files?: unknown;
  labels?: unknown;
  noCache?: boolean | null | undefined;
  platform?: string | null | undefined;
  pull?: boolean | null | undefined;
  /** build secret ids, for RUN --mount=type=secret,id=<id> (BuildKit) */
  secrets?: Array<string> | null | undefined;
  tags: Array<string>;
  target?: string | null | undefined;
  /** this job's time limit in seconds; the type's limit when absent or higher */
  timeoutSeconds?: number | null | undefined;
};

export type Builder =
  | 'BUILDKIT'
  | 'LEGACY';

export type ImageFilter = {
  dangling?: boolean | null | undefined;
  /** only the images of this engine; default: every engine's, merged */
  engine?: string | null | undefined;
  /** `key` or `key=value` */
  label?: Array<string> | null | undefined;
  /** glob over repository[:tag], as `docker images REPO` */
  reference?: string | null | undefined;
};

export type JobEventKind =
  | 'ERROR'
  | 'LOG'
  | 'PROGRESS'
  | 'RESULT'
  | 'STATE';

export type JobState =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

export type JobType =
  | 'BUILD'
  | 'EXPORT'
  | 'PULL'
  | 'PUSH'
  | 'RUN';

export type LogStream =
  | 'STDERR'
  | 'STDOUT';

export type PullImageInput = {
  /** the engine to pull into; absent, the healthy engine with the fewest waiting jobs */
  engine?: string | null | undefined;
  platform?: string | null | undefined;
  reference: string;
  /** this job's time limit in seconds; the type's limit when absent or higher */
  timeoutSeconds?: number | null | undefined;
};

export type BuildImageMutationVariables = Exact<{
  input: BuildImageInput;
}>;


export type BuildImageMutation = { buildImage: { id: string, type: JobType, state: JobState, progress: number | null, engine: string | null, team: string | null, position: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, request: unknown, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null } };

export type PullImageMutationVariables = Exact<{
  input: PullImageInput;
}>;


export type PullImageMutation = { pullImage: { id: string, type: JobType, state: JobState, progress: number | null, engine: string | null, team: string | null, position: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, request: unknown, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null } };

export type ImagesQueryVariables = Exact<{
  filter?: ImageFilter | null | undefined;
}>;


export type ImagesQuery = { images: Array<{ id: string, shortId: string, created: string, size: number, engines: Array<string>, repoTags: Array<{ repository: string, tag: string }>, repoDigests: Array<{ repository: string, digest: string }> }> };

export type ImageQueryVariables = Exact<{
  ref: string;
}>;


export type ImageQuery = { image: { id: string, shortId: string, architecture: string, os: string, created: string, size: number, repoTags: Array<{ repository: string, tag: string }>, labels: Array<{ key: string, value: string }> } | null };

export type JobFieldsFragment = { id: string, type: JobType, state: JobState, progress: number | null, engine: string | null, team: string | null, position: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, request: unknown, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null };

export type JobEventFieldsFragment = { jobId: string, sequence: number, at: string, kind: JobEventKind, state: JobState | null, message: string | null, progress: number | null, stream: LogStream | null, layer: { id: string, status: string, current: number | null, total: number | null } | null, step: { index: number, count: number, instruction: string, id: string | null, name: string | null, cached: boolean | null, startedAt: string | null, completedAt: string | null, error: string | null } | null, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null };

export type JobQueryVariables = Exact<{
  id: string | number;
}>;


export type JobQuery = { job: { id: string, type: JobType, state: JobState, progress: number | null, engine: string | null, team: string | null, position: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, request: unknown, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null } | null };

export type JobEventsSubscriptionVariables = Exact<{
  jobId: string | number;
  fromSequence?: number | null | undefined;
}>;


export type JobEventsSubscription = { jobEvents: { jobId: string, sequence: number, at: string, kind: JobEventKind, state: JobState | null, message: string | null, progress: number | null, stream: LogStream | null, layer: { id: string, status: string, current: number | null, total: number | null } | null, step: { index: number, count: number, instruction: string, id: string | null, name: string | null, cached: boolean | null, startedAt: string | null, completedAt: string | null, error: string | null } | null, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null } };

export type JobUpdatedSubscriptionVariables = Exact<{
  state?: JobState | null | undefined;
  type?: JobType | null | undefined;
}>;


export type JobUpdatedSubscription = { jobUpdated: { id: string, type: JobType, state: JobState, progress: number | null, engine: string | null, team: string | null, position: number | null, createdAt: string, startedAt: string | null, finishedAt: string | null, request: unknown, result: { imageId: string | null, digest: string | null, tags: Array<string> | null, containerId: string | null, exitCode: number | null, artifactBytes: number | null, steps: number | null, cachedSteps: number | null } | null, error: { code: string, message: string } | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  type
  state
  progress
  engine
  team
  position
  createdAt
  startedAt
  finishedAt
  request
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const JobEventFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobEventFields on JobEvent {
  jobId
  sequence
  at
  kind
  state
  message
  progress
  stream
  layer {
    id
    status
    current
    total
  }
  step {
    index
    count
    instruction
    id
    name
    cached
    startedAt
    completedAt
    error
  }
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}
    `, {"fragmentName":"JobEventFields"}) as unknown as TypedDocumentString<JobEventFieldsFragment, unknown>;
export const BuildImageDocument = new TypedDocumentString(`
    mutation BuildImage($input: BuildImageInput!) {
  buildImage(input: $input) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  type
  state
  progress
  engine
  team
  position
  createdAt
  startedAt
  finishedAt
  request
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<BuildImageMutation, BuildImageMutationVariables>;
export const PullImageDocument = new TypedDocumentString(`
    mutation PullImage($input: PullImageInput!) {
  pullImage(input: $input) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  type
  state
  progress
  engine
  team
  position
  createdAt
  startedAt
  finishedAt
  request
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<PullImageMutation, PullImageMutationVariables>;
export const ImagesDocument = new TypedDocumentString(`
    query Images($filter: ImageFilter) {
  images(filter: $filter) {
    id
    shortId
    repoTags {
      repository
      tag
    }
    repoDigests {
      repository
      digest
    }
    created
    size
    engines
  }
}
    `) as unknown as TypedDocumentString<ImagesQuery, ImagesQueryVariables>;
export const ImageDocument = new TypedDocumentString(`
    query Image($ref: String!) {
  image(ref: $ref) {
    id
    shortId
    repoTags {
      repository
      tag
    }
    labels {
      key
      value
    }
    architecture
    os
    created
    size
  }
}
    `) as unknown as TypedDocumentString<ImageQuery, ImageQueryVariables>;
export const JobDocument = new TypedDocumentString(`
    query Job($id: ID!) {
  job(id: $id) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  type
  state
  progress
  engine
  team
  position
  createdAt
  startedAt
  finishedAt
  request
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<JobQuery, JobQueryVariables>;
export const JobEventsDocument = new TypedDocumentString(`
    subscription JobEvents($jobId: ID!, $fromSequence: Int) {
  jobEvents(jobId: $jobId, fromSequence: $fromSequence) {
    ...JobEventFields
  }
}
    fragment JobEventFields on JobEvent {
  jobId
  sequence
  at
  kind
  state
  message
  progress
  stream
  layer {
    id
    status
    current
    total
  }
  step {
    index
    count
    instruction
    id
    name
    cached
    startedAt
    completedAt
    error
  }
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<JobEventsSubscription, JobEventsSubscriptionVariables>;
export const JobUpdatedDocument = new TypedDocumentString(`
    subscription JobUpdated($state: JobState, $type: JobType) {
  jobUpdated(state: $state, type: $type) {
    ...JobFields
  }
}
    fragment JobFields on Job {
  id
  type
  state
  progress
  engine
  team
  position
  createdAt
  startedAt
  finishedAt
  request
  result {
    imageId
    digest
    tags
    containerId
    exitCode
    artifactBytes
    steps
    cachedSteps
  }
  error {
    code
    message
  }
}`) as unknown as TypedDocumentString<JobUpdatedSubscription, JobUpdatedSubscriptionVariables>;