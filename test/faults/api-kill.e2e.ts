import { docker } from '../support/engine';
import { testEnv } from '../support/env';
import { eventually } from '../support/graphql';
import { expectGapless, isTerminal, jobEventsInto, readSse, readSseInto, waitForJob, type JobEventJson } from '../support/jobs';
import { processFleet } from '../support/fleet';
import type { DrydockProcess } from '../support/process';

/*
 * An API process killed with SIGKILL under the clients that follow a job
 * through it. The job's events live in Redis, not in the process, so a client
 * that reconnects to another API process from the last sequence it saw must
 * miss nothing and see nothing twice.
 */

const CLIENTS_PER_PROTOCOL = 25;
const LINES = 300;
const MAX_CONNECTIONS = 10;

const essence = (e: JobEventJson) => [e.sequence, e.kind, e.state, e.message];

/** What one client saw, and which servers served it. */
interface Followed {
  events: JobEventJson[];
  servedBy: Set<string>;
}

describe('an API process killed with SIGKILL under its subscribers', () => {
  const fleet = processFleet('apikill');
  const { token, start } = fleet;
  let apiA: DrydockProcess;
  let apiB: DrydockProcess;
  let jobId = '';

  beforeAll(async () => {
    [apiA, apiB] = await Promise.all([start('api'), start('api'), start('worker')]);
  }, 60_000);

  afterAll(async () => {
    await fleet.stop();
    if (jobId) docker('container', 'prune', '-f', '--filter', `label=io.drydock.job=${jobId}`);
  });

  /**
   * A client that, when its stream is cut, connects again to the next server
   * it knows and resumes after the last sequence it saw, as an EventSource does
   * with `Last-Event-ID` and a graphql-ws client would with `fromSequence`.
   */
  async function follow(urls: string[], into: Followed, connect: (url: string, events: JobEventJson[]) => Promise<void>): Promise<void> {
    for (let connection = 0; connection < MAX_CONNECTIONS; connection++) {
      const url = urls[connection % urls.length] as string;
      const before = into.events.length;
      await connect(url, into.events);
      if (into.events.length > before) into.servedBy.add(url);
      if (isTerminal(into.events.at(-1))) return;
    }
    throw new Error(`a client gave up after ${MAX_CONNECTIONS} connections at sequence ${into.events.at(-1)?.sequence}`);
  }
  const overSse = (url: string, events: JobEventJson[]) => {
    const last = events.at(-1)?.sequence;
    return readSseInto(url, token, jobId, last === undefined ? {} : { 'last-event-id': String(last) }, events);
  };
  const overWs = (url: string, events: JobEventJson[]) => jobEventsInto(url, token, jobId, events);

  it(`loses nothing for ${CLIENTS_PER_PROTOCOL} SSE and ${CLIENTS_PER_PROTOCOL} graphql-ws clients that reconnect to the other process from the last sequence they saw`, async () => {
    const cmd = ['sh', '-c', `for i in $(seq 1 ${LINES}); do echo line $i; sleep 0.02; done`];
    const response = await fetch(`${apiA.url}/v1/containers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: testEnv.fixture, cmd }),
    });
    expect(response.status).toBe(202);
    jobId = ((await response.json()) as { id: string }).id;

    const urls = [apiA.url, apiB.url];
    const sse = Array.from({ length: CLIENTS_PER_PROTOCOL }, (): Followed => ({ events: [], servedBy: new Set() }));
    const ws = Array.from({ length: CLIENTS_PER_PROTOCOL }, (): Followed => ({ events: [], servedBy: new Set() }));
    const following = Promise.all([...sse.map((client) => follow(urls, client, overSse)), ...ws.map((client) => follow(urls, client, overWs))]);

    // Mid-job: every client is attached to A and has seen output, and much of it is still to come.
    const clients = [...sse, ...ws];
    await eventually(async () => (clients.every((c) => c.events.some((e) => e.message === 'line 20')) ? true : undefined), 30_000, 'every client to see line 20');
    apiA.child.kill('SIGKILL');
    await apiA.exited;

    await following;
    const job = await waitForJob(apiB.url, token, jobId, 30_000);
    expect(job.state).toBe('SUCCEEDED');
    const replay = await readSse(apiB.url, token, jobId);
    expectGapless(replay.events);
    const lines = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
    expect(replay.events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(lines);

    for (const [i, client] of clients.entries()) {
      const who = `${i < CLIENTS_PER_PROTOCOL ? 'SSE' : 'graphql-ws'} client ${i % CLIENTS_PER_PROTOCOL}`;
      // Cut mid-stream, resumed on B: otherwise this client proves nothing.
      expect({ who, servedBy: [...client.servedBy] }).toEqual({ who, servedBy: urls });
      expectGapless(client.events);
      expect({ who, events: client.events.length }).toEqual({ who, events: replay.events.length });
      // The same events as the replay (the two protocols render optional fields differently, so compare what they carry).
      expect(client.events.map(essence)).toEqual(replay.events.map(essence));
      expect(client.events.filter((e) => e.kind === 'LOG').map((e) => e.message)).toEqual(lines);
      expect(client.events.at(-1)?.state).toBe('SUCCEEDED');
    }
  }, 60_000);
});
