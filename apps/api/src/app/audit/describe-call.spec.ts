import { describeTarget } from './describe-call';

describe('describeTarget', () => {
  it('names what was acted on, and nothing secret', () => {
    const target = describeTarget([
      { host: 'localhost:5002', ref: 'busybox:1' },
      {},
      { username: 'drydock', password: 'hunter2', buildargs: { TOKEN: 'abc' }, env: ['SECRET=1'], repository: 'team-a/app', tag: 'v1', force: true },
    ]);
    expect(target).toBe('host=localhost:5002 ref=busybox:1 username=drydock repository=team-a/app tag=v1 force=true');
    expect(target).not.toMatch(/hunter2|abc|SECRET/);
  });

  it('flattens one level of GraphQL input and skips long or odd values', () => {
    expect(describeTarget([{ input: { registry: 'r:1', password: 'p', nested: { tag: 'x' } }, tags: ['a', 'b'], reference: 'x'.repeat(300) }])).toBe(
      'input.registry=r:1 tags=a,b',
    );
    expect(describeTarget([{ ref: 'a\nb' }])).toBe('ref=a\\nb');
  });

  it("names prune's filters", () => {
    expect(describeTarget([{}, {}, { dangling: false, until: '24h', labels: ['env=prod', 'keep'] }])).toBe('dangling=false until=24h labels=env=prod,keep');
    expect(describeTarget([{ input: { dangling: true, labels: ['a'] } }])).toBe('input.dangling=true input.labels=a');
  });

  it('describes a pathologically nested value without recursing into it', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(describeTarget([{ tags: deep, ref: 'r' }])).toBe('ref=r');
  });
});
