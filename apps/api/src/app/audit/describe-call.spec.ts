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
});
