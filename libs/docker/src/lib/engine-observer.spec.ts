import { engineOperation, observeEngineRequests } from './engine-observer';

describe('engineOperation', () => {
  it.each([
    ['GET', '/_ping', 'ping'],
    ['GET', '/v1.47/images/json?', 'image.list'],
    ['POST', '/images/create?fromImage=x', 'image.pull'],
    ['GET', '/images/localhost:5001/team-a/app:1/json', 'image.inspect'],
    ['POST', '/images/localhost:5001/team-a/app:1/push?', 'image.push'],
    ['POST', '/images/sha256:abc/tag?', 'image.tag'],
    ['DELETE', '/images/localhost:5001/team-a/app:1?', 'image.remove'],
    ['POST', '/containers/create?', 'container.create'],
    ['POST', '/containers/0123abcd/start?', 'container.start'],
    ['GET', '/containers/0123abcd/json?', 'container.inspect'],
    ['POST', '/containers/0123abcd/wait?', 'container.wait'],
    ['DELETE', '/containers/0123abcd?', 'container.remove'],
    ['POST', '/containers/0123abcd/frobnicate', 'container.other'],
    ['POST', '/build?', 'build'],
    ['GET', '/events?', 'events'],
    ['GET', '/plugins/x/json', 'other'],
  ])('names %s %s as %s', (method, path, operation) => {
    expect(engineOperation(method, path)).toBe(operation);
  });

  it('keeps the names to a fixed set whatever ids and references a path holds', () => {
    const names = new Set<string>();
    for (let i = 0; i < 200; i++) {
      names.add(engineOperation('GET', `/images/registry-${i}/team/app:${i}/json`));
      names.add(engineOperation('POST', `/containers/${i.toString(16)}/kill?`));
      names.add(engineOperation('GET', `/unknown/${i}`));
    }
    expect([...names].sort()).toEqual(['container.kill', 'image.inspect', 'other']);
  });
});

describe('observeEngineRequests', () => {
  it('tells the observer each request once it answered, and still answers when the observer throws', async () => {
    const seen: string[] = [];
    const modem = { dial: (_options: object, callback: (error: unknown, result: unknown) => void) => setImmediate(() => callback(null, 'ok')) };
    observeEngineRequests(modem, (operation, seconds) => {
      seen.push(operation);
      expect(seconds).toBeGreaterThanOrEqual(0);
      throw new Error('broken observer');
    });
    const result = await new Promise((resolve) => modem.dial({ method: 'GET', path: '/_ping' }, (_error, value) => resolve(value)));
    expect(result).toBe('ok');
    expect(seen).toEqual(['ping']);
  });
});
