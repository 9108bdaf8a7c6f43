import { check, expectProblem, type HostileCase } from '../harness';

/** Patterns that made a backtracking matcher take seconds to minutes; all must answer promptly. */
const PATHOLOGICAL = [
  '*a*a*a*a*a*a*a*b',
  '?*?*?*?*?*?*?*?*?*?*x',
  '*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*!',
  'l*o*c*a*l*h*o*s*t*:*5*0*0*1*z',
  '*?*?*?*?*?*?*?*?@sha256:*z',
  `${'*a'.repeat(12)}/nothing`,
];

export const patterns: HostileCase[] = [
  ...PATHOLOGICAL.map(
    (pattern): HostileCase => ({
      defect: '#8.2 super-linear glob',
      name: `GET /v1/images?reference=${pattern} answers`,
      async run(target) {
        const answer = await target.request('GET', `/v1/images?reference=${encodeURIComponent(pattern)}`, target.tokens.viewerA);
        // Either matched in linear time (200) or refused as too many wildcards (400); never a stall.
        check(answer.status === 200 || answer.status === 400, `answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      },
    }),
  ),
  ...PATHOLOGICAL.map(
    (pattern): HostileCase => ({
      defect: '#8.2 super-linear glob',
      name: `GraphQL images(filter: { reference: "${pattern}" }) answers`,
      async run(target) {
        const answer = await target.graphql(target.tokens.viewerA, 'query($r: String) { images(filter: { reference: $r }) { id } }', { r: pattern });
        check(answer.status === 200 || answer.status === 400, `answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      },
    }),
  ),
  {
    defect: '#8.2 super-linear glob',
    name: 'a pattern of 200 wildcards is refused with 400',
    async run(target) {
      const answer = await target.request('GET', `/v1/images?reference=${encodeURIComponent('*?'.repeat(100))}`, target.tokens.viewerA);
      expectProblem(answer, 400, 'VALIDATION_FAILED');
    },
  },
  {
    defect: '#8.2 super-linear glob',
    name: 'twenty pathological list requests at once all answer',
    async run(target) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => target.request('GET', `/v1/images?reference=${encodeURIComponent(PATHOLOGICAL[i % PATHOLOGICAL.length] as string)}`, target.tokens.viewerA)),
      );
      for (const answer of answers) check(answer.status === 200 || answer.status === 400, `answered ${answer.status}`);
    },
  },
];
