import { DrydockError, ErrorCode } from '@drydock/core';
import { EnginePool, type DockerEngine, type EngineSpec, type ImageCatalog } from '@drydock/docker';
import type { EngineLoad } from '@drydock/jobs';
import { EngineRouter } from './engine-router';

const spec = (name: string): EngineSpec => ({ name, host: `unix:///nowhere/${name}.sock`, labels: {}, concurrency: null, tls: null });

/** Each engine answers inspect as `answers` says: it holds the image, has none, or never answers. */
function router(answers: Record<string, 'held' | 'absent' | 'silent'>, loads: Record<string, EngineLoad> = {}, live: string[] = Object.keys(answers)): EngineRouter {
  const pool = new EnginePool(
    Object.keys(answers).map(spec),
    ({ name }) =>
      ({
        images: {
          inspect: (ref: string) => {
            if (answers[name] === 'silent') return new Promise(() => undefined);
            if (answers[name] === 'absent') return Promise.reject(new DrydockError(ErrorCode.IMAGE_NOT_FOUND, `No such image: ${ref}`));
            return Promise.resolve({ name });
          },
        },
        name,
      }) as unknown as DockerEngine,
    (engine) => ({ isLive: live.includes((engine as unknown as { name: string }).name) }) as unknown as ImageCatalog,
  );
  return new EngineRouter(pool, async (name) => loads[name] ?? { waiting: 0, running: 0 });
}

describe('EngineRouter', () => {
  it('sends work on an image to the one engine that holds it', async () => {
    expect((await router({ a: 'absent', b: 'held' }).forImage('team-a/app:1')).name).toBe('b');
  });

  it('refuses an image on several engines with AMBIGUOUS_ENGINE naming them, unless the request names one', async () => {
    const both = router({ a: 'held', b: 'held' });
    await expect(both.forImage('team-a/app:1')).rejects.toMatchObject({ code: ErrorCode.AMBIGUOUS_ENGINE, details: { engines: ['a', 'b'] } });
    expect((await both.forImage('team-a/app:1', 'a')).name).toBe('a');
  });

  it('answers within the probe bound when an engine never answers, leaving it out', async () => {
    const started = Date.now();
    expect((await router({ a: 'silent', b: 'held' }).forImage('team-a/app:1')).name).toBe('b');
    await expect(router({ a: 'silent', b: 'absent' }).forImage('team-a/app:1')).rejects.toMatchObject({ code: ErrorCode.ENGINE_UNAVAILABLE });
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('sends new work to the live engine with the fewest waiting jobs, ties taking turns', async () => {
    const busyA = router({ a: 'held', b: 'held' }, { a: { waiting: 3, running: 0 }, b: { waiting: 1, running: 5 } });
    expect((await busyA.forNewWork()).name).toBe('b');
    const idle = router({ a: 'held', b: 'held' });
    const picks = [await idle.forNewWork(), await idle.forNewWork()].map((member) => member.name);
    expect(new Set(picks)).toEqual(new Set(['a', 'b']));
    expect((await router({ a: 'held', b: 'held' }, {}, ['b']).forNewWork()).name).toBe('b');
  });

  it('refuses an engine name that is not configured with UNKNOWN_ENGINE naming the engines', async () => {
    await expect(router({ a: 'held' }).forNewWork('nope')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_ENGINE, details: { engines: ['a'] } });
  });
});
