import { dropRedisKeys, startApp, type RunningApp } from '../support/app';
import { docker, dockerBuild, removeImagesUnder, uniqueNamespace } from '../support/engine';
import { testEnv } from '../support/env';
import { api } from '../support/http';
import { readSse, waitForJob, type JobEventJson } from '../support/jobs';

const PUSHES = 10;

type TimedEvent = JobEventJson & { at: string };

/** From the job's RUNNING event to its terminal one, in ms since the epoch. */
function runningWindow(events: TimedEvent[]): { from: number; to: number } {
  const running = events.find((event) => event.kind === 'STATE' && event.state === 'RUNNING');
  const ended = events.at(-1);
  if (!running || !ended) throw new Error('a job without a RUNNING or a terminal event');
  return { from: Date.parse(running.at), to: Date.parse(ended.at) };
}

describe('pushes of one repository, one at a time', () => {
  const ns = uniqueNamespace('e2e-push-lock');
  const repository = `${testEnv.registry}/${ns}/app`;
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ DRYDOCK_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' });
    // Layers the registry has never seen (a new namespace, random bytes), so every push uploads them.
    docker('pull', testEnv.fixture);
    dockerBuild(`${repository}:1`, `FROM ${testEnv.fixture}\nRUN head -c 4000000 /dev/urandom > /a\nRUN head -c 4000000 /dev/urandom > /b\n`);
  }, 120_000);

  afterAll(async () => {
    await running.close();
    removeImagesUnder(ns);
    await dropRedisKeys(running.config.keyPrefix);
  });

  it(`runs ${PUSHES} pushes of the same tag sent at once one after the other, and every one succeeds`, async () => {
    const accepted = await Promise.all(
      Array.from({ length: PUSHES }, () => api(running).post(`/v1/images/${encodeURIComponent(`${repository}:1`)}/push`).send({}).expect(202)),
    );
    const ids = accepted.map((response) => response.body.id as string);
    const ended = await Promise.all(ids.map((id) => waitForJob(running.url, running.token, id, 180_000)));
    expect(ended.map((job) => [job.state, job.error?.code ?? null])).toEqual(ids.map(() => ['SUCCEEDED', null]));

    const streams = await Promise.all(ids.map(async (id) => (await readSse(running.url, running.token, id)).events as TimedEvent[]));
    const windows = streams.map(runningWindow).sort((a, b) => a.from - b.from);
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i]?.from).toBeGreaterThanOrEqual(windows[i - 1]?.to ?? Infinity);
    }
    // Those that waited said so, once, naming the push they waited for.
    const waited = streams.filter((events) => events.some((event) => event.message?.startsWith('waiting for the push of')));
    expect(waited.length).toBeGreaterThan(0);
    for (const events of waited) {
      const notes = events.filter((event) => event.message?.startsWith('waiting for the push of'));
      expect(notes.map((note) => note.message)).toEqual([expect.stringMatching(new RegExp(`^waiting for the push of ${repository} by job [0-9a-f-]{36}$`))]);
      // It waited while QUEUED: the note comes before its RUNNING event.
      const note = notes[0] as TimedEvent;
      expect(events.indexOf(note)).toBeLessThan(events.findIndex((event) => event.state === 'RUNNING'));
    }
  }, 240_000);
});
