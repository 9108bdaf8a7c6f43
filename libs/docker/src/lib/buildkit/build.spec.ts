import { buildkitQuery } from './build';
import { engineBuilders } from '../system';
import { Builder } from './trace';

describe('the query of a BuildKit build', () => {
  it('always runs without a network and without a tag, on the build and session it names', () => {
    expect(buildkitQuery({}, 'build-1', 'session-1')).toEqual({
      version: '2',
      buildid: 'build-1',
      session: 'session-1',
      networkmode: 'none',
      nocache: 'false',
      pull: '',
    });
  });

  it('passes target, args, labels, platform and cache sources as the engine reads them (JSON for maps and lists)', () => {
    const query = buildkitQuery(
      {
        dockerfile: 'docker/Dockerfile.prod',
        target: 'runtime',
        buildArgs: { NODE_ENV: 'production' },
        labels: { team: 'a' },
        platform: 'linux/amd64',
        noCache: true,
        pull: true,
        cacheFrom: ['localhost:5001/a/app:cache'],
        inlineCache: true,
      },
      'b',
      's',
    );
    expect(query).toMatchObject({
      dockerfile: 'docker/Dockerfile.prod',
      target: 'runtime',
      platform: 'linux/amd64',
      nocache: 'true',
      pull: '1',
      networkmode: 'none',
      cachefrom: '["localhost:5001/a/app:cache"]',
    });
    expect(JSON.parse(query['buildargs'] as string)).toEqual({ NODE_ENV: 'production', BUILDKIT_INLINE_CACHE: '1' });
    expect(JSON.parse(query['labels'] as string)).toEqual({ team: 'a' });
    expect(query).not.toHaveProperty('t');
  });
});

describe('the builders an engine offers', () => {
  it.each([
    ['1.41', 'linux', [Builder.BUILDKIT, Builder.LEGACY]],
    ['1.39', 'linux', [Builder.BUILDKIT, Builder.LEGACY]],
    ['1.38', 'linux', [Builder.LEGACY]],
    ['1.41', 'windows', [Builder.LEGACY]],
    ['2.0', 'linux', [Builder.BUILDKIT, Builder.LEGACY]],
  ])('API %s on %s: %j', (api, os, builders) => {
    expect(engineBuilders(api, os)).toEqual(builders);
  });
});
