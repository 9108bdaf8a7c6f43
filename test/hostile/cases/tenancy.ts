import { tarContext } from '../../support/jobs';
import { check, expectProblem, type Answer, type HostileCase, type Target } from '../harness';

async function buildAsA(target: Target, dockerfile: string, query = ''): Promise<Answer> {
  return target.request('POST', `/v1/builds?t=${encodeURIComponent(`${target.namespaceA}/app:1`)}${query}`, target.tokens.builderA, {
    headers: { 'content-type': 'application/x-tar' },
    body: await tarContext({ Dockerfile: dockerfile }),
  });
}

/** Dockerfiles of team A that name team B's images: every one must be refused before anything is queued. */
const reachesIntoB = (b: string): Array<[string, string, string?]> => [
  ['FROM another team', `FROM ${b}/base:1\n`],
  ['FROM another team by digest', `FROM ${b}/base@sha256:${'a'.repeat(64)}\n`],
  ['FROM another team in a later stage', `FROM scratch AS one\nFROM ${b}/base:1\nCOPY --from=one / /\n`],
  ['FROM another team through a build arg default', `ARG BASE=${b}/base:1\nFROM \${BASE}\n`],
  ['FROM another team through a build arg', 'ARG BASE=scratch\nFROM $BASE\n', `&buildargs=${encodeURIComponent(JSON.stringify({ BASE: `${b}/base:1` }))}`],
  ['FROM another team with --platform', `FROM --platform=linux/amd64 ${b}/base:1\n`],
  ['FROM another team in lower case keyword', `from ${b}/base:1\n`],
  ['COPY --from another team', `FROM scratch\nCOPY --from=${b}/base:1 /etc/passwd /x\n`],
  ['COPY --from another team, flags reordered', `FROM scratch\nCOPY --chown=1:1 --from=${b}/base:1 /a /b\n`],
];

export const tenancy: HostileCase[] = [
  ...['', '&pull=true'].flatMap((pull) =>
    reachesIntoB('NAMESPACE_B').map(
      ([what, dockerfile, query]): HostileCase => ({
        defect: '#8.7 builds reach into other namespaces',
        name: `a build with ${what}${pull ? ' and pull' : ''} is 403`,
        async run(target) {
          const answer = await buildAsA(target, dockerfile.replaceAll('NAMESPACE_B', target.namespaceB), (query ?? '').replaceAll('NAMESPACE_B', encodeURIComponent(target.namespaceB)) + pull);
          expectProblem(answer, 403, 'FORBIDDEN');
        },
      }),
    ),
  ),
  {
    defect: '#8.10 aliases bypass the mutation limit',
    name: '300 aliased tagImage mutations in one request are refused whole',
    async run(target) {
      const fields = Array.from({ length: 300 }, (_, i) => `t${i}: tagImage(source: "${target.fixture}", repository: "${target.namespaceA}/alias", tag: "t${i}") { id }`);
      const answer = await target.graphql(target.tokens.builderA, `mutation { ${fields.join(' ')} }`);
      check(answer.status === 400 || /VALIDATION_FAILED|RATE_LIMITED/.test(answer.body), `answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      const listed = await target.request('GET', `/v1/images?reference=${encodeURIComponent(`${target.namespaceA}/alias`)}`, target.tokens.viewerA);
      check(listed.body === '[]', `some aliased tags were made: ${listed.body.slice(0, 200)}`);
    },
  },
  {
    defect: '#8.10 aliases bypass the mutation limit',
    name: '50 aliased runContainer mutations make no job',
    async run(target) {
      const fields = Array.from({ length: 50 }, (_, i) => `r${i}: runContainer(input: { image: "${target.fixture}", cmd: ["true"] }) { id }`);
      const answer = await target.graphql(target.tokens.admin, `mutation { ${fields.join(' ')} }`);
      check(answer.status === 400 || /VALIDATION_FAILED|RATE_LIMITED/.test(answer.body), `answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      check(!answer.body.includes('"r0":{'), 'a job was made');
    },
  },
  ...['127.0.0.1:1', '127.0.0.1:6391', 'localhost:22', '[::1]:3000', 'localhost:1', '127.0.0.2:5001'].map(
    (registry): HostileCase => ({
      defect: '#8.12 search as a port probe',
      name: `searching registry ${registry} (no credential, not allowed) is refused before any request`,
      async run(target) {
        const answer = await target.request('GET', `/v1/search?term=x&registry=${encodeURIComponent(registry)}`, target.tokens.viewerA);
        check(answer.status === 403 || answer.status === 400, `answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      },
    }),
  ),
];
