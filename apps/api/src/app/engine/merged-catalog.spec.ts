import { EnginePool, type DockerEngine, type ImageCatalog } from '@drydock/docker';
import { FakeEngine } from '../testing/fake-engine';
import { FakeCatalog } from '../testing/fakes';
import { MergedCatalog, type EngineImageEvent } from './merged-catalog';

function pool(names: string[]): { pool: EnginePool; catalogs: FakeCatalog[] } {
  const catalogs: FakeCatalog[] = [];
  const specs = names.map((name) => ({ name, host: `unix:///nonexistent/${name}.sock`, labels: {}, concurrency: null, tls: null }));
  const built = new EnginePool(
    specs,
    () => new FakeEngine() as unknown as DockerEngine,
    (engine) => {
      const catalog = new FakeCatalog(engine as unknown as FakeEngine);
      catalogs.push(catalog);
      return catalog as unknown as ImageCatalog;
    },
  );
  return { pool: built, catalogs };
}

describe('MergedCatalog', () => {
  it("names the engine of every image event, from each engine's stream, until unsubscribed", () => {
    const { pool: engines, catalogs } = pool(['a', 'b']);
    const merged = new MergedCatalog(engines);
    const seen: EngineImageEvent[] = [];
    const off = merged.onImageEvent((event) => seen.push(event));
    const event = { action: 'tag', id: 'sha256:1', reference: 'x:1', at: '2026-01-01T00:00:00.000Z' };
    catalogs[1]?.emit(event);
    catalogs[0]?.emit(event);
    off();
    catalogs[1]?.emit(event);
    expect(seen.map((e) => e.engine)).toEqual(['b', 'a']);
  });

  it('keeps the merged list the same object while no engine changes, and a new one once one does', async () => {
    const { pool: engines, catalogs } = pool(['a', 'b']);
    const snapshots = await Promise.all(catalogs.map((catalog) => catalog.all()));
    catalogs.forEach((catalog, i) => (catalog.all = async () => snapshots[i] as never));
    const merged = new MergedCatalog(engines);
    const first = await merged.all();
    expect(await merged.all()).toBe(first);
    (catalogs[1] as FakeCatalog).all = async () => [];
    expect(await merged.all()).not.toBe(first);
  });
});
