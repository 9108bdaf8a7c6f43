import { DrydockGraphQLError, DrydockProblemError, type GraphQLErrorJson, type ProblemCode } from '@drydock/client';

export { DrydockProblemError };

/** A problem the console states itself (a page it lacks, a role that may not), said the way the API says its own. */
export function consoleProblem(status: number, code: ProblemCode, title: string, detail: string, type = 'about:blank'): DrydockProblemError {
  return new DrydockProblemError({ type, status, code, title, detail });
}

/** The type of a problem that is no refusal: the live socket closed under a page. */
const LIVE_CUT = 'urn:drydock:console:live-cut';
export const isLiveCut = (problem: DrydockProblemError) => problem.type === LIVE_CUT;

/**
 * A code Drydock sent outside problem+json (a GraphQL error's extensions, a job's error):
 * the API maps every one through the same ErrorCode switch as its problems, so it is one of theirs.
 */
const drydockCode = (code: string | undefined): ProblemCode => (code ?? 'INTERNAL') as ProblemCode;

/** A job that ended in error, as a problem: its code and message are the API's. */
export function jobProblem(error: { code: string; message: string }, title: string): DrydockProblemError {
  return consoleProblem(0, drydockCode(error.code), title, error.message);
}

export function networkProblem(error: unknown): DrydockProblemError {
  return consoleProblem(0, 'INTERNAL', 'The API did not answer', messageOf(error));
}

function isCloseEvent(value: unknown): value is CloseEvent {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

/** graphql-ws closes a refused socket with 4401/4403; anything else closing it is a cut. */
export function isCut(error: unknown): boolean {
  return isCloseEvent(error) && error.code !== 4401 && error.code !== 4403;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Whatever a call or a subscription failed with, as a problem for the alert: nothing fails silently. */
export function problemOf(error: unknown): DrydockProblemError {
  if (error instanceof DrydockProblemError) return error;
  const graphqlErrors = error instanceof DrydockGraphQLError ? error.errors : Array.isArray(error) ? (error as GraphQLErrorJson[]) : null;
  if (graphqlErrors) {
    const first = graphqlErrors[0];
    return consoleProblem(0, drydockCode(first?.extensions?.code), 'The live subscription was refused', first?.message ?? '');
  }
  if (isCloseEvent(error)) {
    const code = error.code === 4401 ? 'UNAUTHENTICATED' : error.code === 4403 ? 'FORBIDDEN' : 'INTERNAL';
    return consoleProblem(0, code, 'The live connection closed', error.reason || `code ${error.code}`, code === 'INTERNAL' ? LIVE_CUT : undefined);
  }
  return consoleProblem(0, 'INTERNAL', 'Something went wrong in the console', messageOf(error));
}
