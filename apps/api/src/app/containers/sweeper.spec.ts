import { DrydockError, ErrorCode } from '@drydock/core';
import { RUN_LABELS } from '@drydock/jobs';
import { newTestService, type TestService } from '../testing/test-service';
import { ContainerSweeper } from './sweeper';

describe('ContainerSweeper on two engines', () => {
  let t: TestService<ContainerSweeper>;
  const on = (name: string) => (t.engines[name] as TestService<ContainerSweeper>['engines'][string]).engine;
  const stale = (name: string, id: string) =>
    on(name).addContainer({ id, finishedAt: '2026-01-01T00:00:00Z', labels: { [RUN_LABELS.deployment]: t.config.keyPrefix } }).id;
  beforeEach(async () => {
    t = await newTestService(ContainerSweeper, {}, { engines: ['a', 'b'] });
  });
  afterEach(() => t.close());

  it("removes every engine's stale containers, each on its own engine", async () => {
    const onA = stale('a', '1'.repeat(64));
    const onB = stale('b', '2'.repeat(64));
    expect((await t.sut.sweep(60)).sort()).toEqual([onA, onB]);
    expect(on('a').callsTo('containers.remove').map((call) => call.args[0])).toEqual([onA]);
    expect(on('b').callsTo('containers.remove').map((call) => call.args[0])).toEqual([onB]);
  });

  it('sweeps the engines that answer when one does not, then reports the failure', async () => {
    const onB = stale('b', '2'.repeat(64));
    on('a').containers.list = async () => {
      throw new DrydockError(ErrorCode.ENGINE_UNAVAILABLE, 'engine a is down');
    };
    await expect(t.sut.sweep(60)).rejects.toMatchObject({ code: ErrorCode.ENGINE_UNAVAILABLE });
    expect(on('b').callsTo('containers.remove').map((call) => call.args[0])).toEqual([onB]);
  });
});
