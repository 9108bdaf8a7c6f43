import { DrydockError, ErrorCode } from './errors';
import {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  ImageReference,
  isImageId,
  matchesNamespace,
  parseReference,
  parseRepository,
  validateDigest,
  validateTag,
} from './reference';

// Many cases come from distribution/reference's reference_test.go and
// normalize_test.go, so that this parser agrees with the one Docker uses.
const HEX = '7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa';
const DIGEST = `sha256:${HEX}`;
const SHA384 = `sha384:${'ab'.repeat(48)}`;
const SHA512 = `sha512:${'cd'.repeat(64)}`;
const TAG_128 = 't'.repeat(128);
const TAG_129 = 't'.repeat(129);

function thrown(fn: () => unknown): DrydockError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DrydockError);
    return error as DrydockError;
  }
  throw new Error('expected an error, none was thrown');
}

function expectInvalid(fn: () => unknown, fragment: string): void {
  const error = thrown(fn);
  expect(error.code).toBe(ErrorCode.INVALID_REFERENCE);
  expect(error.message).toContain(fragment);
}

type ValidCase = [
  input: string,
  domain: string,
  path: string,
  tag: string | undefined,
  digest: string | undefined,
  repository: string,
  familiar: string,
  canonical: string,
];

// prettier-ignore
const validCases: ValidCase[] = [
  // Docker Hub official images: "library/" is implied and hidden again.
  ['ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu', 'ubuntu:latest', 'docker.io/library/ubuntu:latest'],
  ['ubuntu:14.04', 'docker.io', 'library/ubuntu', '14.04', undefined, 'ubuntu', 'ubuntu:14.04', 'docker.io/library/ubuntu:14.04'],
  [`ubuntu@${DIGEST}`, 'docker.io', 'library/ubuntu', undefined, DIGEST, 'ubuntu', `ubuntu@${DIGEST}`, `docker.io/library/ubuntu@${DIGEST}`],
  [`ubuntu:14.04@${DIGEST}`, 'docker.io', 'library/ubuntu', '14.04', DIGEST, 'ubuntu', `ubuntu:14.04@${DIGEST}`, `docker.io/library/ubuntu:14.04@${DIGEST}`],
  ['docker.io/library/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu', 'ubuntu:latest', 'docker.io/library/ubuntu:latest'],
  ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu', 'ubuntu:latest', 'docker.io/library/ubuntu:latest'],
  ['docker.io/ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04', undefined, 'ubuntu', 'ubuntu:22.04', 'docker.io/library/ubuntu:22.04'],
  ['index.docker.io/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu', 'ubuntu:latest', 'docker.io/library/ubuntu:latest'],
  ['index.docker.io/library/debian:12', 'docker.io', 'library/debian', '12', undefined, 'debian', 'debian:12', 'docker.io/library/debian:12'],
  ['library/ubuntu', 'docker.io', 'library/ubuntu', undefined, undefined, 'ubuntu', 'ubuntu:latest', 'docker.io/library/ubuntu:latest'],
  ['ubuntu-12.04-base', 'docker.io', 'library/ubuntu-12.04-base', undefined, undefined, 'ubuntu-12.04-base', 'ubuntu-12.04-base:latest', 'docker.io/library/ubuntu-12.04-base:latest'],
  // Docker Hub user repositories.
  ['ouruser/sinatra:v2', 'docker.io', 'ouruser/sinatra', 'v2', undefined, 'ouruser/sinatra', 'ouruser/sinatra:v2', 'docker.io/ouruser/sinatra:v2'],
  ['training/sinatra', 'docker.io', 'training/sinatra', undefined, undefined, 'training/sinatra', 'training/sinatra:latest', 'docker.io/training/sinatra:latest'],
  [`docker.io/ouruser/sinatra@${DIGEST}`, 'docker.io', 'ouruser/sinatra', undefined, DIGEST, 'ouruser/sinatra', `ouruser/sinatra@${DIGEST}`, `docker.io/ouruser/sinatra@${DIGEST}`],
  ['other/library', 'docker.io', 'other/library', undefined, undefined, 'other/library', 'other/library:latest', 'docker.io/other/library:latest'],
  // familiarizeName only drops "library/" when one component remains.
  ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', undefined, undefined, 'library/foo/bar', 'library/foo/bar:latest', 'docker.io/library/foo/bar:latest'],
  ['a/b/c/d', 'docker.io', 'a/b/c/d', undefined, undefined, 'a/b/c/d', 'a/b/c/d:latest', 'docker.io/a/b/c/d:latest'],
  // Path component separators: ".", "_", "__", runs of "-".
  ['foo_bar', 'docker.io', 'library/foo_bar', undefined, undefined, 'foo_bar', 'foo_bar:latest', 'docker.io/library/foo_bar:latest'],
  ['foo__bar', 'docker.io', 'library/foo__bar', undefined, undefined, 'foo__bar', 'foo__bar:latest', 'docker.io/library/foo__bar:latest'],
  ['foo-bar', 'docker.io', 'library/foo-bar', undefined, undefined, 'foo-bar', 'foo-bar:latest', 'docker.io/library/foo-bar:latest'],
  ['foo--bar', 'docker.io', 'library/foo--bar', undefined, undefined, 'foo--bar', 'foo--bar:latest', 'docker.io/library/foo--bar:latest'],
  ['docker---rules/docker', 'docker.io', 'docker---rules/docker', undefined, undefined, 'docker---rules/docker', 'docker---rules/docker:latest', 'docker.io/docker---rules/docker:latest'],
  ['dock__er/docker', 'docker.io', 'dock__er/docker', undefined, undefined, 'dock__er/docker', 'dock__er/docker:latest', 'docker.io/dock__er/docker:latest'],
  ['a', 'docker.io', 'library/a', undefined, undefined, 'a', 'a:latest', 'docker.io/library/a:latest'],
  // Without a "/" nothing is a domain: these are Docker Hub names (splitDockerDomain fast path).
  ['foo.bar', 'docker.io', 'library/foo.bar', undefined, undefined, 'foo.bar', 'foo.bar:latest', 'docker.io/library/foo.bar:latest'],
  ['localhost', 'docker.io', 'library/localhost', undefined, undefined, 'localhost', 'localhost:latest', 'docker.io/library/localhost:latest'],
  ['localhost:5000', 'docker.io', 'library/localhost', '5000', undefined, 'localhost', 'localhost:5000', 'docker.io/library/localhost:5000'],
  ['test.com:5000', 'docker.io', 'library/test.com', '5000', undefined, 'test.com', 'test.com:5000', 'docker.io/library/test.com:5000'],
  ['192.168.1.1', 'docker.io', 'library/192.168.1.1', undefined, undefined, '192.168.1.1', '192.168.1.1:latest', 'docker.io/library/192.168.1.1:latest'],
  // Private registries: "localhost", anything with "." or ":", or uppercase.
  ['localhost/foo', 'localhost', 'foo', undefined, undefined, 'localhost/foo', 'localhost/foo:latest', 'localhost/foo:latest'],
  ['localhost/library/debian', 'localhost', 'library/debian', undefined, undefined, 'localhost/library/debian', 'localhost/library/debian:latest', 'localhost/library/debian:latest'],
  ['localhost:5000/team/app', 'localhost:5000', 'team/app', undefined, undefined, 'localhost:5000/team/app', 'localhost:5000/team/app:latest', 'localhost:5000/team/app:latest'],
  [`localhost:5000/a/b:c@${DIGEST}`, 'localhost:5000', 'a/b', 'c', DIGEST, 'localhost:5000/a/b', `localhost:5000/a/b:c@${DIGEST}`, `localhost:5000/a/b:c@${DIGEST}`],
  ['test:5000/repo', 'test:5000', 'repo', undefined, undefined, 'test:5000/repo', 'test:5000/repo:latest', 'test:5000/repo:latest'],
  ['registry.example.com/team/app:1.2.3', 'registry.example.com', 'team/app', '1.2.3', undefined, 'registry.example.com/team/app', 'registry.example.com/team/app:1.2.3', 'registry.example.com/team/app:1.2.3'],
  ['registry.example.com:443/app', 'registry.example.com:443', 'app', undefined, undefined, 'registry.example.com:443/app', 'registry.example.com:443/app:latest', 'registry.example.com:443/app:latest'],
  [`myregistry.local:5000/foo/bar@${DIGEST}`, 'myregistry.local:5000', 'foo/bar', undefined, DIGEST, 'myregistry.local:5000/foo/bar', `myregistry.local:5000/foo/bar@${DIGEST}`, `myregistry.local:5000/foo/bar@${DIGEST}`],
  ['Foo.com/bar', 'Foo.com', 'bar', undefined, undefined, 'Foo.com/bar', 'Foo.com/bar:latest', 'Foo.com/bar:latest'],
  ['Foo/bar', 'Foo', 'bar', undefined, undefined, 'Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
  ['LOCALDOMAIN/debian', 'LOCALDOMAIN', 'debian', undefined, undefined, 'LOCALDOMAIN/debian', 'LOCALDOMAIN/debian:latest', 'LOCALDOMAIN/debian:latest'],
  // Only the exact lowercase "docker.io" is Docker Hub.
  ['Docker.io/ubuntu', 'Docker.io', 'ubuntu', undefined, undefined, 'Docker.io/ubuntu', 'Docker.io/ubuntu:latest', 'Docker.io/ubuntu:latest'],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux', 'some-long-tag', undefined, 'sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag'],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'test.example.com/my-app', 'test.example.com', undefined, 'b.gcr.io/test.example.com/my-app', 'b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com'],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'myimage', 'xn--n3h.com', undefined, 'xn--n3h.com/myimage', 'xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
  // IPv4 and bracketed IPv6 hosts.
  ['127.0.0.1:5000/x:1', '127.0.0.1:5000', 'x', '1', undefined, '127.0.0.1:5000/x', '127.0.0.1:5000/x:1', '127.0.0.1:5000/x:1'],
  ['192.168.1.1/repo', '192.168.1.1', 'repo', undefined, undefined, '192.168.1.1/repo', '192.168.1.1/repo:latest', '192.168.1.1/repo:latest'],
  ['[::1]:5000/a', '[::1]:5000', 'a', undefined, undefined, '[::1]:5000/a', '[::1]:5000/a:latest', '[::1]:5000/a:latest'],
  ['[2001:db8::1]/repo:tag', '[2001:db8::1]', 'repo', 'tag', undefined, '[2001:db8::1]/repo', '[2001:db8::1]/repo:tag', '[2001:db8::1]/repo:tag'],
  [`[2001:db8::1]:5000/repo:tag@${DIGEST}`, '[2001:db8::1]:5000', 'repo', 'tag', DIGEST, '[2001:db8::1]:5000/repo', `[2001:db8::1]:5000/repo:tag@${DIGEST}`, `[2001:db8::1]:5000/repo:tag@${DIGEST}`],
  ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian', undefined, undefined, '[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest', '[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest'],
  // Tags: \w first, then \w . - up to 128 characters; case is kept.
  ['ubuntu:Latest_Tag-1.0', 'docker.io', 'library/ubuntu', 'Latest_Tag-1.0', undefined, 'ubuntu', 'ubuntu:Latest_Tag-1.0', 'docker.io/library/ubuntu:Latest_Tag-1.0'],
  ['ubuntu:_private', 'docker.io', 'library/ubuntu', '_private', undefined, 'ubuntu', 'ubuntu:_private', 'docker.io/library/ubuntu:_private'],
  ['ubuntu:x', 'docker.io', 'library/ubuntu', 'x', undefined, 'ubuntu', 'ubuntu:x', 'docker.io/library/ubuntu:x'],
  [`ubuntu:${TAG_128}`, 'docker.io', 'library/ubuntu', TAG_128, undefined, 'ubuntu', `ubuntu:${TAG_128}`, `docker.io/library/ubuntu:${TAG_128}`],
  // Other registered go-digest algorithms.
  [`ubuntu@${SHA384}`, 'docker.io', 'library/ubuntu', undefined, SHA384, 'ubuntu', `ubuntu@${SHA384}`, `docker.io/library/ubuntu@${SHA384}`],
  [`ubuntu@${SHA512}`, 'docker.io', 'library/ubuntu', undefined, SHA512, 'ubuntu', `ubuntu@${SHA512}`, `docker.io/library/ubuntu@${SHA512}`],
  // A 64-hex name is only refused when it is the whole input (normalize.go).
  [`docker.io/${HEX}`, 'docker.io', `library/${HEX}`, undefined, undefined, HEX, `${HEX}:latest`, `docker.io/library/${HEX}:latest`],
  [`${HEX}:v1`, 'docker.io', `library/${HEX}`, 'v1', undefined, HEX, `${HEX}:v1`, `docker.io/library/${HEX}:v1`],
  ['deadbeefcafe', 'docker.io', 'library/deadbeefcafe', undefined, undefined, 'deadbeefcafe', 'deadbeefcafe:latest', 'docker.io/library/deadbeefcafe:latest'],
  // The 255 limit is on the path, "library/" included, domain excluded.
  [`example.com/${'a'.repeat(255)}:tag`, 'example.com', 'a'.repeat(255), 'tag', undefined, `example.com/${'a'.repeat(255)}`, `example.com/${'a'.repeat(255)}:tag`, `example.com/${'a'.repeat(255)}:tag`],
  ['b'.repeat(247), 'docker.io', `library/${'b'.repeat(247)}`, undefined, undefined, 'b'.repeat(247), `${'b'.repeat(247)}:latest`, `docker.io/library/${'b'.repeat(247)}:latest`],
];

type InvalidCase = [input: string, fragment: string];

const invalidCases: InvalidCase[] = [
  // Empty and whitespace.
  ['', 'invalid reference "": reference is empty'],
  [' ', 'leading or trailing whitespace'],
  [' ubuntu', 'invalid reference " ubuntu": leading or trailing whitespace'],
  ['ubuntu ', 'leading or trailing whitespace'],
  ['ubuntu\n', 'invalid reference "ubuntu\\n": leading or trailing whitespace'],
  ['ubu ntu', 'contains whitespace'],
  // Uppercase repository names (domains may have uppercase, paths may not).
  [
    'Ubuntu:14.04',
    'invalid reference "Ubuntu:14.04": repository name "Ubuntu" must be lowercase',
  ],
  ['UBUNTU', 'repository name "UBUNTU" must be lowercase'],
  ['docker/Docker', 'repository name "docker/Docker" must be lowercase'],
  [
    'docker.io/docker/Docker',
    'repository name "docker/Docker" must be lowercase',
  ],
  [
    'test:5000/Uppercase/lowercase:tag',
    'repository name "Uppercase/lowercase" must be lowercase',
  ],
  ['Foo/Bar', 'repository name "Bar" must be lowercase'],
  // Missing parts.
  ['ubuntu:', 'invalid reference "ubuntu:": tag is empty'],
  [`ubuntu:@${DIGEST}`, 'tag is empty'],
  ['ubuntu@', 'invalid reference "ubuntu@": digest is empty'],
  ['ubuntu:14.04@', 'digest is empty'],
  [':justtag', 'repository name is empty'],
  [`@${DIGEST}`, 'repository name is empty'],
  // Digests.
  [
    'ubuntu@sha256:abc',
    'invalid digest "sha256:abc": sha256 digests have 64 hex characters',
  ],
  [`ubuntu@sha256:${HEX}a`, 'sha256 digests have 64 hex characters, not 65'],
  [
    `ubuntu@sha256:${HEX.toUpperCase()}`,
    'sha256 digests must be lowercase hex',
  ],
  [`ubuntu@sha256:${'g'.repeat(64)}`, 'contains "g", which is not a hex digit'],
  [`ubuntu@sha256:${HEX.slice(1)}!`, 'contains "!", which is not a hex digit'],
  [`ubuntu@sha512:${HEX}`, 'sha512 digests have 128 hex characters, not 64'],
  [`ubuntu@SHA256:${HEX}`, 'algorithm "SHA256" must be lowercase'],
  [`ubuntu@1sha:${HEX}`, 'algorithm "1sha"'],
  [`ubuntu@sha256+:${HEX}`, 'algorithm "sha256+"'],
  [`ubuntu@:${HEX}`, 'algorithm is empty'],
  [`ubuntu@${HEX}`, `invalid digest "${HEX}": expected "<algorithm>:<hex>"`],
  ['ubuntu@sha256:', 'hex part is empty'],
  ['ubuntu@md5:abcd', 'digests have at least 32 hex characters, not 4'],
  [`ubuntu@md5:${'0f'.repeat(16)}`, 'unsupported digest algorithm "md5"'],
  [`ubuntu:1@blake3:${'ef'.repeat(32)}`, 'unsupported digest algorithm "blake3": Docker supports sha256, sha384, sha512'],
  [`ubuntu@${DIGEST}@${DIGEST}`, 'contains "@", which is not a hex digit'],
  [
    `localhost:5000/a/b:c@sha256:${HEX.slice(0, 63)}`,
    'sha256 digests have 64 hex characters, not 63',
  ],
  // Tags.
  [`ubuntu:${TAG_129}`, `invalid tag "${TAG_129}": longer than 128 characters`],
  ['ubuntu:-foo', 'invalid tag "-foo": must start with a letter, digit or "_"'],
  ['ubuntu:.foo', 'invalid tag ".foo": must start with a letter, digit or "_"'],
  ['ubuntu:foo!bar', 'invalid tag "foo!bar": contains "!"'],
  ['ubuntu:a:b', 'invalid tag "a:b": contains ":"'],
  // Path components.
  ['foo___bar', 'path component "foo___bar" has the separator "___"'],
  ['foo..bar', 'path component "foo..bar" has the separator ".."'],
  ['docker/dock_.er', 'path component "dock_.er" has the separator "_."'],
  ['dock_.er/docker', 'invalid domain "dock_.er": domain component "dock_"'],
  [
    '-foo',
    'invalid reference "-foo": path component "-foo" must start with a lowercase letter or digit',
  ],
  ['foo-', 'path component "foo-" must end with a lowercase letter or digit'],
  ['_docker/_docker', 'path component "_docker" must start'],
  ['-docker/docker', 'path component "-docker" must start'],
  ['docker-/docker', 'path component "docker-" must end'],
  ['aa/asdf$$^/aa', 'path component "asdf$$^" contains "$"'],
  ['caf\u00e9', 'path component "caf\u00e9" contains "\u00e9"'],
  ['a//b', 'invalid reference "a//b": path component is empty'],
  ['/a', 'invalid reference "/a": path component is empty'],
  ['a/', 'invalid reference "a/": path component is empty'],
  ['docker///docker', 'path component is empty'],
  ['localhost:5000/', 'path component is empty'],
  // Domains.
  [
    'https://github.com/docker/docker',
    'invalid domain "https:": port is empty',
  ],
  ['foo:bar/baz', 'invalid domain "foo:bar": port "bar" must be numeric'],
  ['ubuntu:1.0/foo', 'invalid domain "ubuntu:1.0": port "1.0" must be numeric'],
  ['-docker.io/docker/docker', 'domain component "-docker" may only contain'],
  ['foo..com/bar', 'invalid domain "foo..com": domain component is empty'],
  ['foo_bar.com/x', 'domain component "foo_bar"'],
  ['fc00::1:5000/debian', 'an IPv6 address must be enclosed in "[" and "]"'],
  [
    '[fe80::1%eth0]:5000/debian',
    'IPv6 address "[fe80::1%eth0]" may only contain hex digits and ":"',
  ],
  [
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    'IPv6 address "[2001:db8:3:4::192.0.2.33]"',
  ],
  ['[::1/a', 'IPv6 address is missing its closing "]"'],
  ['[::1]x/a', 'unexpected "x" after the IPv6 address'],
  ['[fc00::1]', 'path component "[fc00" contains "["'],
  // The image-ID ambiguity and the length limit.
  [HEX, `repository name "${HEX}" cannot be a 64-character hexadecimal string`],
  ['a'.repeat(256), 'is longer than 255 characters (264)'],
  ['b'.repeat(248), 'is longer than 255 characters (256)'],
  [`example.com/${'a'.repeat(256)}:tag`, 'is longer than 255 characters (256)'],
  [`${'x/'.repeat(128)}y`, 'is longer than 255 characters (257)'],
];

describe('parseReference', () => {
  it.each(validCases)(
    'parses %s',
    (input, domain, path, tag, digest, repository, familiar, canonical) => {
      const ref = parseReference(input);
      expect(ref).toEqual<ImageReference>({
        domain,
        path,
        tag,
        digest,
        name: `${domain}/${path}`,
        repository,
        effectiveTag: tag ?? (digest === undefined ? DEFAULT_TAG : undefined),
        familiar,
        canonical,
      });
    },
  );

  it.each(invalidCases)('rejects %j', (input, fragment) => {
    expectInvalid(() => parseReference(input), fragment);
  });

  it('round-trips its canonical and familiar forms', () => {
    for (const [input] of validCases) {
      const ref = parseReference(input);
      expect(parseReference(ref.canonical)).toEqual(
        parseReference(ref.familiar),
      );
      expect(parseReference(ref.canonical).canonical).toBe(ref.canonical);
    }
  });

  it('returns a frozen reference', () => {
    expect(Object.isFrozen(parseReference('ubuntu'))).toBe(true);
  });

  it('uses the Docker defaults', () => {
    expect(DEFAULT_DOMAIN).toBe('docker.io');
    expect(DEFAULT_TAG).toBe('latest');
  });

  it('caps how much of a huge input it echoes', () => {
    const error = thrown(() => parseReference(`ubuntu:${'x'.repeat(100_000)}`));
    expect(error.message.length).toBeLessThan(1_000);
    expect(error.message).toContain('(100000 characters)');
  });
});

describe('parseRepository', () => {
  it.each<[string, string]>([
    ['ubuntu', 'docker.io/library/ubuntu'],
    ['localhost:5000/team/app', 'localhost:5000/team/app'],
    ['index.docker.io/ouruser/sinatra', 'docker.io/ouruser/sinatra'],
  ])('accepts %s', (input, name) => {
    const ref = parseRepository(input);
    expect(ref.name).toBe(name);
    expect(ref.tag).toBeUndefined();
    expect(ref.digest).toBeUndefined();
  });

  it.each<[string, string]>([
    [
      'ubuntu:14.04',
      'invalid repository "ubuntu:14.04": expected a repository without a tag, got tag "14.04"',
    ],
    ['localhost:5000', 'got tag "5000"'],
    [`ubuntu@${DIGEST}`, `got digest "${DIGEST}"`],
    [`ubuntu:1@${DIGEST}`, 'got tag "1"'],
    ['Ubuntu', 'repository name "Ubuntu" must be lowercase'],
    ['', 'reference is empty'],
  ])('rejects %j', (input, fragment) => {
    expectInvalid(() => parseRepository(input), fragment);
  });
});

describe('validateTag', () => {
  it.each(['latest', '14.04', 'v1.2.3-rc.1', '_x', 'UPPER', TAG_128])(
    'accepts %s',
    (tag) => {
      expect(validateTag(tag)).toBe(tag);
    },
  );

  it.each<[string, string]>([
    ['', 'invalid tag "": tag is empty'],
    [TAG_129, `invalid tag "${TAG_129}": longer than 128 characters (129)`],
    [
      '-rc',
      'invalid tag "-rc": must start with a letter, digit or "_", not "-"',
    ],
    ['.hidden', 'must start with a letter, digit or "_", not "."'],
    ['a/b', 'invalid tag "a/b": contains "/"'],
    ['a b', 'contains " "'],
    ['a@b', 'contains "@"'],
  ])('rejects %j', (tag, fragment) => {
    expectInvalid(() => validateTag(tag), fragment);
  });
});

describe('validateDigest', () => {
  it.each([
    DIGEST,
    SHA384,
    SHA512,
  ])('accepts %s', (digest) => {
    expect(validateDigest(digest)).toBe(digest);
  });

  it.each<[string, string]>([
    ['', 'invalid digest "": digest is empty'],
    [
      'sha256:abc',
      'invalid digest "sha256:abc": sha256 digests have 64 hex characters',
    ],
    [`sha256:${HEX.toUpperCase()}`, 'sha256 digests must be lowercase hex'],
    [HEX, 'expected "<algorithm>:<hex>"'],
    [`Sha256:${HEX}`, 'algorithm "Sha256" must be lowercase'],
    [`sha256:${HEX.slice(2)}zz`, 'contains "z", which is not a hex digit'],
    // The grammar allows these; the engine does not, so they never reach it.
    [`sha256+b64u.x_y:${'ab'.repeat(16)}`, 'unsupported digest algorithm "sha256+b64u.x_y": Docker supports sha256, sha384, sha512'],
    [`blake3:${'ef'.repeat(32)}`, 'unsupported digest algorithm "blake3"'],
  ])('rejects %j', (digest, fragment) => {
    expectInvalid(() => validateDigest(digest), fragment);
  });
});

describe('isImageId', () => {
  it.each<[string, boolean]>([
    [DIGEST, true],
    [HEX, true],
    [HEX.slice(0, 12), true],
    [HEX.slice(0, 11), false],
    [`${HEX}0`, false],
    [HEX.toUpperCase(), false],
    [`sha256:${HEX.slice(0, 12)}`, false],
    [`sha512:${'cd'.repeat(64)}`, false],
    ['ubuntu', false],
    ['', false],
  ])('%j -> %s', (input, expected) => {
    expect(isImageId(input)).toBe(expected);
  });
});

describe('matchesNamespace', () => {
  it.each<[pattern: string, input: string, expected: boolean]>([
    ['team-a/*', 'team-a/app', true],
    ['team-a/*', 'docker.io/team-a/app', true],
    ['team-a/*', 'team-ab/x', false],
    ['team-a/*', 'team-a/x/y', false],
    ['team-a/*', 'localhost:5000/team-a/app', false],
    ['team-a/**', 'team-a/x/y', true],
    ['team-a/**', 'team-a/app', true],
    ['docker.io/team-a/*', 'team-a/app', true],
    ['docker.io/library/*', 'ubuntu', true],
    ['*', 'ubuntu', true],
    ['*', 'training/sinatra', false],
    ['ubuntu', 'ubuntu:14.04', true],
    ['localhost:5000/team-a/**', 'localhost:5000/team-a/x/y', true],
    ['localhost:5000/team-a/**', 'localhost:5000/team-a/x', true],
    ['localhost:5000/team-a/**', 'localhost:5000/team-b/x', false],
    ['localhost:5000/team-a/**', 'team-a/x', false],
    ['localhost:5000/*/app', 'localhost:5000/team-a/app', true],
    ['**', 'registry.example.com/a/b/c', true],
    ['team-*/app', 'team-z/app', true],
    ['team-*/app', 'team-z/sub/app', false],
    ['team.a/*', 'teamxa/app', false],
    ['', 'ubuntu', false],
  ])('%j vs %j -> %s', (pattern, input, expected) => {
    expect(matchesNamespace(pattern, parseReference(input))).toBe(expected);
  });
});
