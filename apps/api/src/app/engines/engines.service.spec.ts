import type { JobQueue } from '@drydock/jobs';
import { admin, newTestService, viewerA, type FakeMember, type TestService } from '../testing/test-service';
import { EnginesService } from './engines.service';
import { ImagesService } from '../images/images.service';

describe('EnginesService', () => {
  let t: TestService<ImagesService>;
  let service: EnginesService;
  const loads: Record<string, { waiting: number; running: number }> = { a: { waiting: 3, running: 1 }, b: { waiting: 0, running: 2 } };
  beforeEach(async () => {
    t = await newTestService(ImagesService, {}, { engines: ['a', 'b'] });
    const queue = { load: async (engine: string) => loads[engine] } as unknown as JobQueue;
    service = new EnginesService(t.pool, queue);
  });
  afterEach(() => t.close());

  it('describes every engine: version, builders, health, images and jobs, without the host for a viewer', async () => {
    (t.engines['b'] as FakeMember).engine.addImage('team-a/app:1');
    const engines = await service.list(viewerA);
    expect(engines).toEqual([
      { name: 'a', version: '20.10', apiVersion: '1.41', builders: ['BUILDKIT', 'LEGACY'], healthy: true, images: 0, runningJobs: 1, waitingJobs: 3, labels: [] },
      { name: 'b', version: '20.10', apiVersion: '1.41', builders: ['BUILDKIT', 'LEGACY'], healthy: true, images: 1, runningJobs: 2, waitingJobs: 0, labels: [] },
    ]);
    expect((await service.list(admin)).map((engine) => engine.host)).toEqual(['unix:///nonexistent/a.sock', 'unix:///nonexistent/b.sock']);
  });

  it('reports an engine that does not answer as unhealthy with nulls, within the probe bound, while the other answers', async () => {
    const b = t.engines['b'] as FakeMember;
    b.catalog.isLive = false;
    const never = new Promise<never>(() => undefined);
    (b.engine.system as { info: () => Promise<unknown> }).info = () => never;
    b.catalog.all = () => never;
    const started = Date.now();
    const [a, down] = await service.list(viewerA);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(a?.healthy).toBe(true);
    expect(down).toMatchObject({ name: 'b', healthy: false, version: null, apiVersion: null, builders: null, images: null, runningJobs: 2, waitingJobs: 0 });
  });
});
