import type { Client } from 'graphql-ws';
import { collect, wsClient } from './graphql';
import { expectGapless, getJob, JOB_EVENT_FIELDS, readSse, type JobEventJson, type JobJson } from './jobs';
import { testEnv } from './env';

/** What each submitted job is; the storm cycles through them. */
export type StormKind = 'pull' | 'build' | 'run';

export interface StormOptions {
  /** Base URLs of the API processes: jobs, SSE readers and graphql-ws subscribers are spread over them. */
  apis: readonly string[];
  token: string;
  jobs: number;
  /** The builds tag their images under it (the caller removes them). */
  namespace: string;
  kinds?: readonly StormKind[];
  /** How long every job, and every subscriber, may take to reach its end. */
  deadlineMs?: number;
  /** The engine job i names (`engine` in its body); undefined leaves it to Drydock's routing. */
  engineOf?: (i: number, kind: StormKind) => string | undefined;
}

export interface StormJob {
  id: string;
  kind: StormKind;
  submittedTo: string;
  sseFrom: string;
  wsFrom: string;
  sse: JobEventJson[];
  ws: JobEventJson[];
  final: JobJson;
}

export interface StormResult {
  jobs: StormJob[];
  /** From the first submission to the last subscriber's end. */
  elapsedMs: number;
  /** Events received by all subscribers together. */
  delivered: number;
}

const JOB_EVENTS_SUBSCRIPTION = `subscription($id: ID!) { jobEvents(jobId: $id) { ${JOB_EVENT_FIELDS} } }`;

async function submit(api: string, token: string, kind: StormKind, i: number, namespace: string, engine?: string): Promise<string> {
  const [path, body] =
    kind === 'pull' ? ['/v1/images/pull', { reference: testEnv.fixture }]
    : kind === 'run' ? ['/v1/containers', { image: testEnv.fixture, cmd: ['sh', '-c', `echo storm-${i}`] }]
    : ['/v1/builds', { dockerfile: `FROM ${testEnv.fixture}\nLABEL storm=${i}\nCMD ["echo", "storm-${i}"]`, tags: [`${namespace}/storm:${i}`], builder: 'LEGACY' }];
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(engine ? { ...body, engine } : body),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`${kind} ${i} on ${api}: ${response.status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/**
 * Submits `jobs` jobs at once (pulls of the fixture, inline builds, runs),
 * job i to API i, and follows each to its end with a graphql-ws subscriber
 * on API i+1 and an SSE reader on API i+2 (another API whenever there are
 * two or more). Pulls of one image in flight share a job: a repeated id is
 * followed again, which must give the same events.
 */
export async function jobStorm(options: StormOptions): Promise<StormResult> {
  const { apis, token, namespace } = options;
  const kinds = options.kinds ?? ['pull', 'build', 'run'];
  const deadlineMs = options.deadlineMs ?? 60_000;
  const clients: Client[] = apis.map((api) => wsClient(api.replace(/^http/, 'ws') + '/graphql', { authorization: `Bearer ${token}` }));
  const at = (i: number): string => apis[i % apis.length] as string;
  const started = Date.now();
  try {
    const jobs = await Promise.all(
      Array.from({ length: options.jobs }, async (_, i): Promise<StormJob> => {
        const kind = kinds[i % kinds.length] as StormKind;
        const id = await submit(at(i), token, kind, i, namespace, options.engineOf?.(i, kind));
        const { sse, ws } = await followJob(id, token, at(i + 2), clients[(i + 1) % apis.length] as Client, deadlineMs);
        return { id, kind, submittedTo: at(i), sseFrom: at(i + 2), wsFrom: at(i + 1), sse, ws, final: await getJob(at(i), token, id) };
      }),
    );
    return { jobs, elapsedMs: Date.now() - started, delivered: jobs.reduce((sum, job) => sum + job.sse.length + job.ws.length, 0) };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

/** Every event of job `id` to its end, over SSE from `sseFrom` and over graphql-ws through `ws`, at once. */
export async function followJob(id: string, token: string, sseFrom: string, ws: Client, deadlineMs = 60_000): Promise<{ sse: JobEventJson[]; ws: JobEventJson[] }> {
  const [sse, overWs] = await Promise.all([
    readSse(sseFrom, token, id, {}, deadlineMs),
    collect<JobEventJson>(ws, JOB_EVENTS_SUBSCRIPTION, { id }, () => false, deadlineMs),
  ]);
  return { sse: sse.events, ws: overWs };
}

/**
 * Every job ended in one of `endings`, and each of its subscribers got every
 * event of it: from sequence 1 to its terminal STATE, in order, none twice,
 * the same events over SSE and graphql-ws, the last one the job's final state.
 */
export function expectEveryEventDelivered(result: StormResult, endings: readonly string[] = ['SUCCEEDED']): void {
  for (const job of result.jobs) expectJobDelivered(job, endings);
}

/** One job of expectEveryEventDelivered. */
export function expectJobDelivered(job: StormJob, endings: readonly string[] = ['SUCCEEDED']): void {
  const where = `${job.kind} job ${job.id} (sse from ${job.sseFrom}, ws from ${job.wsFrom})`;
  if (!endings.includes(job.final.state)) throw new Error(`${where} ended ${job.final.state}: ${JSON.stringify(job.final.error)}`);
  for (const [name, events] of [['SSE', job.sse], ['graphql-ws', job.ws]] as const) {
    try {
      expectGapless(events);
    } catch (error) {
      throw new Error(`${where} over ${name}: ${(error as Error).message}`);
    }
    if (events.some((event) => event.jobId !== job.id)) throw new Error(`${where} over ${name}: another job's event`);
    if (events.at(-1)?.state !== job.final.state) throw new Error(`${where} over ${name} ended ${events.at(-1)?.state}, the job ${job.final.state}`);
  }
  const bare = (events: JobEventJson[]) => events.map(({ sequence, kind, state, message }) => ({ sequence, kind, state, message }));
  if (JSON.stringify(bare(job.sse)) !== JSON.stringify(bare(job.ws))) throw new Error(`${where}: SSE and graphql-ws events differ`);
}
