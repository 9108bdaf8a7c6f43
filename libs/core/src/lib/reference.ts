/**
 * Docker image references, parsed the way the Docker CLI and engine parse them.
 *
 * The grammar and the normalisation rules are those of
 * github.com/distribution/reference (regexp.go, reference.go, normalize.go,
 * helpers.go) plus the digest checks of github.com/opencontainers/go-digest,
 * which `reference.Parse` delegates to:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] path-component ["/" path-component]*
 *   domain           := host [":" port-number]
 *   host             := domain-name | "[" IPv6address "]"
 *   domain-name      := domain-component ["." domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator        := [._] | __ | [-]+
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex
 *
 * Acceptance is decided by Docker's own regular expressions (the "gates"
 * below, copied verbatim); the diagnostics around them exist only to say
 * which part of the input is wrong, which Docker's "invalid reference format"
 * does not.
 *
 * Two deliberate differences from ParseNormalizedNamed, both in what it would
 * accept and then fail to use:
 * - a first component that looks like a domain (has "." or ":") but breaks the
 *   domain grammar, e.g. "foo_bar.com/x", is rejected. Docker's regexp falls
 *   back to reading it as a domain-less path, leaving a reference whose
 *   Domain() is "" and that no registry can serve.
 *
 * A digest whose algorithm fits the grammar but is not one the engine
 * supports (sha256, sha384, sha512: go-digest's registered algorithms) is
 * refused here, as go-digest refuses it, so that it never reaches the engine.
 */
import { DrydockError, ErrorCode } from './errors';

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  readonly domain: string; // 'docker.io', 'localhost:5000', 'registry.example.com', '[::1]:5000'
  readonly path: string; // 'library/ubuntu', 'ouruser/sinatra', 'team/app'
  readonly tag: string | undefined; // the tag as given; undefined if none
  readonly digest: string | undefined; // 'sha256:<64 hex>' if given
  /** domain + '/' + path, e.g. 'docker.io/library/ubuntu' */
  readonly name: string;
  /** the repository as the engine and `docker images` show it: 'ubuntu', 'ouruser/sinatra', 'localhost:5000/team/app' (docker.io/ and library/ dropped like FamiliarName) */
  readonly repository: string;
  /** the tag to use when none is given and no digest: tag ?? (digest ? undefined : 'latest') */
  readonly effectiveTag: string | undefined;
  /** familiar string with the effective tag and digest: 'ubuntu:latest', 'localhost:5000/a/b:c@sha256:...', 'ubuntu@sha256:...' */
  readonly familiar: string;
  /** fully qualified: 'docker.io/library/ubuntu:latest' */
  readonly canonical: string;
}

// normalize.go: Docker Hub was once "the Docker Index"; its old host name is
// still accepted and canonicalised to docker.io.
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
// normalize.go: single-component Docker Hub names are official images.
const OFFICIAL_REPO_PREFIX = 'library/';
// regexp.go: "localhost" is the one domain without "." or ":".
const LOCALHOST = 'localhost';
// reference.go RepositoryNameTotalLengthMax. Since distribution/reference
// v0.6.0 ("Exclude domain from name length check") it bounds the path only,
// so "library/" counts and the domain does not.
const PATH_MAX_LENGTH = 255;
const TAG_MAX_LENGTH = 128;

// regexp.go, verbatim.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent =
  '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const optionalPort = '(?::[0-9]+)?';
const domainAndPort = `(?:${domainName}|${ipv6address})${optionalPort}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat =
  '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const identifier = '[a-f0-9]{64}';

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);
const anchoredPathComponent = anchored(pathComponent);
const anchoredDomainComponent = anchored(domainNameComponent);
const anchoredDomain = anchored(domainAndPort);
const anchoredTag = anchored(tagPat);
const anchoredDigest = anchored(digestPat);
const anchoredIdentifier = anchored(identifier);
// go-digest DigestRegexp only admits lowercase algorithms; intersected with
// the reference grammar (components start with a letter) this is what
// survives both parsers.
const anchoredAlgorithm = /^[a-z][a-z0-9]*(?:[-_+.][a-z][a-z0-9]*)*$/;
// go-digest algorithm.go: the registered algorithms and their exact encoded
// lengths; "Note that /A-F/ disallowed".
const KNOWN_DIGEST_LENGTHS: Readonly<Record<string, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};
// Docker's digest grammar asks for at least 128 bits.
const MIN_DIGEST_HEX = 32;

/** Parses like ParseNormalizedNamed (docker pull/tag/push). Throws DrydockError(INVALID_REFERENCE). */
export function parseReference(input: string): ImageReference {
  const fail = (detail: string): never =>
    invalid(`invalid reference ${quote(input)}: ${detail}`);

  if (input === '') fail('reference is empty');
  if (input.trim() !== input) fail('leading or trailing whitespace');
  if (/\s/.test(input)) fail('contains whitespace');
  // normalize.go refuses a bare identifier: it is an image ID, and reading it
  // as docker.io/library/<hex> would silently pull the wrong thing. Only the
  // whole input counts, as in Docker ("docker.io/<hex>" and "<hex>:tag" pass).
  if (anchoredIdentifier.test(input)) {
    fail(
      `repository name ${quote(input)} cannot be a 64-character hexadecimal string: ` +
        'it is ambiguous with an image ID (check isImageId first)',
    );
  }

  const at = input.indexOf('@');
  const nameAndTag = at === -1 ? input : input.slice(0, at);
  const digest = at === -1 ? undefined : input.slice(at + 1);
  // A tag never contains "/" and a path never contains ":", so the tag starts
  // at the first ":" after the last "/"; a ":" before it belongs to a port.
  const tagColon = nameAndTag.indexOf(':', nameAndTag.lastIndexOf('/') + 1);
  const name = tagColon === -1 ? nameAndTag : nameAndTag.slice(0, tagColon);
  const givenTag = tagColon === -1 ? undefined : nameAndTag.slice(tagColon + 1);

  if (name === '') fail('repository name is empty');
  const { domain, path } = splitDockerDomain(name, fail);

  if (givenTag !== undefined) {
    const problem = tagProblem(givenTag);
    if (problem !== undefined)
      fail(
        givenTag === ''
          ? problem
          : `invalid tag ${quote(givenTag)}: ${problem}`,
      );
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined)
      fail(
        digest === '' ? problem : `invalid digest ${quote(digest)}: ${problem}`,
      );
  }
  return build(domain, path, givenTag, digest);
}

/** A repository only (the target of `docker tag` without tag, or push): rejects a tag or digest. Returns the reference with tag undefined. */
export function parseRepository(input: string): ImageReference {
  const ref = parseReference(input);
  if (ref.tag !== undefined) {
    invalid(
      `invalid repository ${quote(input)}: expected a repository without a tag, got tag ${quote(ref.tag)}`,
    );
  }
  if (ref.digest !== undefined) {
    invalid(
      `invalid repository ${quote(input)}: expected a repository without a digest, got digest ${quote(ref.digest)}`,
    );
  }
  return ref;
}

/** Validates a tag on its own: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; throws with a message naming the tag. */
export function validateTag(value: string): string {
  const problem = tagProblem(value);
  if (problem !== undefined) invalid(`invalid tag ${quote(value)}: ${problem}`);
  return value;
}

/** Validates 'sha256:<64 lowercase hex>' (and other algorithms per the grammar); throws naming the digest. */
export function validateDigest(value: string): string {
  const problem = digestProblem(value);
  if (problem !== undefined)
    invalid(`invalid digest ${quote(value)}: ${problem}`);
  return value;
}

/** True for an image id: 'sha256:<64 hex>', or a bare hex string of 12..64 chars (id prefix, as docker accepts). */
export function isImageId(input: string): boolean {
  // Engine IDs are go-digest sha256 digests, hence lowercase only. 12 is the
  // length `docker images` prints.
  return /^sha256:[a-f0-9]{64}$/.test(input) || /^[a-f0-9]{12,64}$/.test(input);
}

/** True if `pattern` (namespace pattern, `*` = exactly one path component, `**` = any depth >= 1, matched against `repository` as familiar AND as `name` fully qualified) matches. e.g. 'team-a/*' matches 'team-a/app' and 'docker.io/team-a/app'; 'localhost:5000/team-a/**' matches 'localhost:5000/team-a/x/y'. */
export function matchesNamespace(
  pattern: string,
  ref: ImageReference,
): boolean {
  if (pattern === '') return false;
  // Like helpers.go FamiliarMatch, try the familiar form and then the
  // qualified one, so "team-a/*" and "docker.io/team-a/*" both work.
  const regexp = namespacePattern(pattern);
  return regexp.test(ref.repository) || regexp.test(ref.name);
}

function namespacePattern(pattern: string): RegExp {
  const segments = pattern.split('/').map((segment) => {
    if (segment === '**') return '[^/]+(?:/[^/]+)*';
    if (segment === '*') return '[^/]+';
    // Inside a segment "*" stays within the component, as path.Match does.
    return segment.split('*').map(escapeRegExp).join('[^/]*');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * normalize.go splitDockerDomain: the first component is a domain only if
 * there is more than one component and it is "localhost", contains "." or ":",
 * or has uppercase (namespaces cannot, so it cannot be one).
 */
function splitDockerDomain(
  name: string,
  fail: (detail: string) => never,
): { domain: string; path: string } {
  let domain = DEFAULT_DOMAIN;
  let remote = name;
  const slash = name.indexOf('/');
  if (slash !== -1) {
    const first = name.slice(0, slash);
    if (
      first === LOCALHOST ||
      /[.:]/.test(first) ||
      first.toLowerCase() !== first
    ) {
      domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
      remote = name.slice(slash + 1);
      const problem = domainProblem(first);
      if (problem !== undefined)
        fail(`invalid domain ${quote(first)}: ${problem}`);
    }
  }

  // ParseNormalizedNamed checks case before the grammar, so "Ubuntu" is
  // reported as an uppercase name rather than an invalid one.
  if (remote.toLowerCase() !== remote)
    fail(`repository name ${quote(remote)} must be lowercase`);
  for (const component of remote.split('/')) {
    const problem = pathComponentProblem(component);
    if (problem !== undefined) fail(problem);
  }

  // Only on Docker Hub is a single component an official image.
  const path =
    domain === DEFAULT_DOMAIN && !remote.includes('/')
      ? OFFICIAL_REPO_PREFIX + remote
      : remote;
  if (path.length > PATH_MAX_LENGTH) {
    fail(
      `repository name ${quote(path)} is longer than ${PATH_MAX_LENGTH} characters (${path.length})`,
    );
  }
  return { domain, path };
}

function domainProblem(domain: string): string | undefined {
  if (anchoredDomain.test(domain)) return undefined;

  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close === -1) return 'IPv6 address is missing its closing "]"';
    host = domain.slice(0, close + 1);
    const rest = domain.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      return `unexpected ${quote(rest)} after the IPv6 address`;
    if (rest !== '') port = rest.slice(1);
    // regexp.go ipv6address: zone identifiers and embedded IPv4 are excluded.
    if (!anchored(ipv6address).test(host))
      return `IPv6 address ${quote(host)} may only contain hex digits and ":"`;
  } else {
    const colon = domain.indexOf(':');
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
      if (port.includes(':'))
        return 'an IPv6 address must be enclosed in "[" and "]"';
    }
    if (host === '') return 'host is empty';
    for (const label of host.split('.')) {
      if (label === '') return 'domain component is empty';
      if (!anchoredDomainComponent.test(label)) {
        return `domain component ${quote(label)} may only contain letters, digits and "-", and cannot start or end with "-"`;
      }
    }
  }
  if (port !== undefined && !/^[0-9]+$/.test(port)) {
    return port === ''
      ? 'port is empty'
      : `port ${quote(port)} must be numeric`;
  }
  return 'does not match the domain grammar';
}

function pathComponentProblem(component: string): string | undefined {
  if (component === '') return 'path component is empty';
  if (anchoredPathComponent.test(component)) return undefined;

  const subject = `path component ${quote(component)}`;
  const badChar = /[^a-z0-9._-]/.exec(component);
  if (badChar)
    return `${subject} contains ${quote(badChar[0])}; only lowercase letters, digits, ".", "_" and "-" are allowed`;
  if (/^[._-]/.test(component))
    return `${subject} must start with a lowercase letter or digit`;
  if (/[._-]$/.test(component))
    return `${subject} must end with a lowercase letter or digit`;
  // regexp.go separator: one ".", one or two "_", or any run of "-".
  const badSeparator = [...component.matchAll(/[._-]+/g)].find(
    (m) => !/^(?:[._]|__|-+)$/.test(m[0]),
  );
  if (badSeparator) {
    return `${subject} has the separator ${quote(badSeparator[0])}; separators are ".", "_", "__" or a run of "-"`;
  }
  return `${subject} does not match the path grammar`;
}

function tagProblem(value: string): string | undefined {
  if (value === '') return 'tag is empty';
  if (anchoredTag.test(value)) return undefined;
  if (value.length > TAG_MAX_LENGTH)
    return `longer than ${TAG_MAX_LENGTH} characters (${value.length})`;
  if (!/^\w/.test(value))
    return `must start with a letter, digit or "_", not ${quote(value.charAt(0))}`;
  const badChar = /[^\w.-]/.exec(value);
  if (badChar)
    return `contains ${quote(badChar[0])}; only letters, digits, "_", "." and "-" are allowed`;
  return 'does not match the tag grammar';
}

function digestProblem(value: string): string | undefined {
  if (value === '') return 'digest is empty';
  const colon = value.indexOf(':');
  if (colon === -1) return 'expected "<algorithm>:<hex>"';
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);

  if (algorithm === '') return 'algorithm is empty';
  if (!anchoredAlgorithm.test(algorithm)) {
    return algorithm.toLowerCase() !== algorithm
      ? `algorithm ${quote(algorithm)} must be lowercase`
      : `algorithm ${quote(algorithm)} must be letters and digits, starting with a letter, joined by "+", ".", "_" or "-"`;
  }
  if (encoded === '') return 'hex part is empty';
  const nonHex = /[^0-9a-fA-F]/.exec(encoded);
  if (nonHex) return `contains ${quote(nonHex[0])}, which is not a hex digit`;

  const expected = KNOWN_DIGEST_LENGTHS[algorithm];
  if (expected !== undefined) {
    if (encoded.length !== expected)
      return `${algorithm} digests have ${expected} hex characters, not ${encoded.length}`;
    if (/[A-F]/.test(encoded))
      return `${algorithm} digests must be lowercase hex`;
  } else if (encoded.length < MIN_DIGEST_HEX) {
    return `digests have at least ${MIN_DIGEST_HEX} hex characters, not ${encoded.length}`;
  } else if (anchoredDigest.test(value)) {
    return `unsupported digest algorithm ${quote(algorithm)}: Docker supports ${Object.keys(KNOWN_DIGEST_LENGTHS).join(', ')}`;
  }
  return anchoredDigest.test(value)
    ? undefined
    : 'does not match the digest grammar';
}

function build(
  domain: string,
  path: string,
  givenTag: string | undefined,
  digest: string | undefined,
): ImageReference {
  const name = `${domain}/${path}`;
  const repository = familiarName(domain, path);
  // normalize.go TagNameOnly: "latest" only when there is neither tag nor digest.
  const effectiveTag =
    givenTag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  const suffix =
    (effectiveTag === undefined ? '' : `:${effectiveTag}`) +
    (digest === undefined ? '' : `@${digest}`);
  return Object.freeze({
    domain,
    path,
    tag: givenTag,
    digest,
    name,
    repository,
    effectiveTag,
    familiar: repository + suffix,
    canonical: name + suffix,
  });
}

/**
 * normalize.go familiarizeName: drop "docker.io/", and "library/" only when
 * a single component remains ("docker.io/library/a/b" stays "library/a/b").
 */
function familiarName(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const remainder = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!remainder.includes('/')) return remainder;
  }
  return path;
}

const QUOTE_MAX = 300;

// JSON quoting makes whitespace and control characters visible; the cap
// keeps a pasted megabyte from ending up in logs.
function quote(text: string): string {
  if (text.length <= QUOTE_MAX) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTE_MAX))}... (${text.length} characters)`;
}

function invalid(message: string): never {
  throw new DrydockError(ErrorCode.INVALID_REFERENCE, message);
}
