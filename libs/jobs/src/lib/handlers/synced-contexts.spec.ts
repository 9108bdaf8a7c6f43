import { SyncedContextSweeper } from './synced-contexts';

const MIB = 1024 * 1024;

function sweeper(policy = { idleMs: 1_000, maxBytes: 100 * MIB, maxBuilds: 5 }, fail = false) {
  const pruned: string[] = [];
  const sweeps = new SyncedContextSweeper(async (engine) => {
    pruned.push(engine);
    if (fail) throw new Error('the engine said no');
  }, policy);
  return { sweeps, pruned };
}

describe('SyncedContextSweeper', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('prunes once the engine has had no build end for the idle time, not after each build', async () => {
    const { sweeps, pruned } = sweeper();
    sweeps.built('default', MIB);
    jest.advanceTimersByTime(900);
    sweeps.built('default', MIB);
    jest.advanceTimersByTime(900);
    expect(pruned).toEqual([]);
    jest.advanceTimersByTime(100);
    await sweeps.settled();
    expect(pruned).toEqual(['default']);
    jest.advanceTimersByTime(10_000);
    expect(pruned).toEqual(['default']);
  });

  it('waits for the builds still running on the engine before it counts the idle time', async () => {
    const { sweeps, pruned } = sweeper();
    sweeps.started('default');
    sweeps.started('default');
    sweeps.built('default', MIB);
    jest.advanceTimersByTime(5_000);
    expect(pruned).toEqual([]);
    sweeps.built('default', MIB);
    jest.advanceTimersByTime(999);
    expect(pruned).toEqual([]);
    sweeps.started('default');
    jest.advanceTimersByTime(5_000);
    expect(pruned).toEqual([]);
    sweeps.built('default', MIB);
    jest.advanceTimersByTime(1_000);
    await sweeps.settled();
    expect(pruned).toEqual(['default']);
  });

  it('prunes at once when the contexts synced since the last prune reach the byte or build bound', async () => {
    const { sweeps, pruned } = sweeper();
    sweeps.started('default');
    sweeps.started('default');
    sweeps.built('default', 60 * MIB);
    sweeps.built('default', 60 * MIB);
    await sweeps.settled();
    expect(pruned).toEqual(['default']);
    for (let i = 0; i < 5; i++) sweeps.built('other', 0);
    await sweeps.settled();
    expect(pruned).toEqual(['default', 'other']);
  });

  it('keeps each engine to its own count and timer', async () => {
    const { sweeps, pruned } = sweeper();
    sweeps.built('a', 60 * MIB);
    sweeps.built('b', 60 * MIB);
    await sweeps.settled();
    expect(pruned).toEqual([]);
    jest.advanceTimersByTime(1_000);
    await sweeps.settled();
    expect(pruned.sort()).toEqual(['a', 'b']);
  });

  it('goes on after a prune the engine refused, and forgets its timers when closed', async () => {
    const { sweeps, pruned } = sweeper({ idleMs: 1_000, maxBytes: 100 * MIB, maxBuilds: 1 }, true);
    sweeps.built('default', 0);
    sweeps.built('default', 0);
    await expect(sweeps.settled()).resolves.toBeUndefined();
    expect(pruned).toEqual(['default', 'default']);
    const idle = sweeper();
    idle.sweeps.built('default', 0);
    idle.sweeps.close();
    jest.advanceTimersByTime(5_000);
    expect(idle.pruned).toEqual([]);
  });
});
