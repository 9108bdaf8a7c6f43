import { Readable } from 'node:stream';
import { jsonDepth, MAX_BODY_DEPTH } from './request-limits.guard';

describe('jsonDepth', () => {
  it.each<[unknown, number]>([
    [undefined, 0],
    ['text', 0],
    [{}, 1],
    [[], 1],
    [{ a: 1, b: [1, 2] }, 2],
    [{ a: { b: { c: [[{}]] } } }, 6],
    [Object.assign(Object.create(null) as object, { a: {} }), 2],
  ])('measures %j as %i', (value, depth) => {
    expect(jsonDepth(value, 100)).toBe(depth);
  });

  it('walks a pathological body without recursion and stops past the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(jsonDepth(deep, MAX_BODY_DEPTH)).toBe(MAX_BODY_DEPTH + 1);
  });

  it('does not walk uploads or buffers', () => {
    expect(jsonDepth(Readable.from(['x']), 1)).toBe(0);
    expect(jsonDepth(Buffer.from('[[[[]]]]'), 1)).toBe(0);
  });
});
