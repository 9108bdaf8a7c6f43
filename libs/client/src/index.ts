// The browser-safe entry: nothing here may import a Node module (see @drydock/client/node).
export { createDrydockClient, type DrydockClient, type DrydockClientOptions, type DrydockHelpers } from './lib/client';
export { buildQuery, buildTar, type BuildTarOptions } from './lib/build-tar';
export { dataOf, DrydockProblemError, isProblemResponse, problemError, problemMiddleware, statusProblem, PROBLEM_MEDIA_TYPE, type Problem, type ProblemCode } from './lib/problem';
export { isTerminalEvent, JobStreamError, watchJob, type Job, type JobEvent, type WatchJobOptions } from './lib/watch-job';
export { DrydockGraphQLError, type GraphQLErrorJson } from './lib/graphql';
export { readSse, SseLimitError, type SseLimits, type SseMessage } from './lib/sse';
export type { FetchLike, Transport } from './lib/transport';
export type { components, operations, paths } from './generated/openapi';
// GraphQL: the generated documents by name, and every generated type under `graphql` (its Job is GraphQL's, not REST's).
export {
  BuildImageDocument,
  ImageDocument,
  ImagesDocument,
  JobDocument,
  JobEventsDocument,
  JobUpdatedDocument,
  PullImageDocument,
  TypedDocumentString,
} from './generated/graphql';
export type * as graphql from './generated/graphql';
