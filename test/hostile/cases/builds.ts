import { tarContext, waitForJob, type JobJson } from '../../support/jobs';
import { check, type HostileCase, type Target } from '../harness';

async function build(target: Target, dockerfile: string, tag: string, buildArgs: Record<string, string> = {}): Promise<JobJson> {
  const query = `t=${encodeURIComponent(tag)}&buildargs=${encodeURIComponent(JSON.stringify(buildArgs))}`;
  const answer = await target.request('POST', `/v1/builds?${query}`, target.tokens.builderA, {
    headers: { 'content-type': 'application/x-tar' },
    body: await tarContext({ Dockerfile: dockerfile }),
  });
  check(answer.status === 202, `build answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  return waitForJob(target.url, target.tokens.builderA, (JSON.parse(answer.body) as JobJson).id, 120_000);
}

const SECRET = 'hostile-corpus-build-arg-value-5e1f';

export const builds: HostileCase[] = [
  {
    defect: '#8.8 builds escape the fence',
    name: 'a build step past the build time limit is stopped and ends JOB_TIMEOUT',
    async run(target) {
      const job = await build(target, `FROM ${target.fixture}\nRUN sleep 600\n`, `${target.namespaceA}/slow:1`);
      check(job.state === 'FAILED' && job.error?.code === 'JOB_TIMEOUT', `ended ${job.state} ${JSON.stringify(job.error)}`);
    },
  },
  {
    defect: '#8.8 builds escape the fence',
    name: 'a build step that allocates past its memory limit fails the build, not the engine or Drydock',
    async run(target) {
      const job = await build(target, `FROM ${target.fixture}\nRUN head -c 600m /dev/zero | sort > /dev/null\n`, `${target.namespaceA}/greedy:1`);
      check(job.state === 'FAILED', `ended ${job.state}`);
    },
  },
  {
    defect: '#8.11 build args in history',
    name: "another team reads an image's history without its build-arg values, over REST and GraphQL",
    async run(target) {
      const tag = `${target.namespaceA}/args:1`;
      const job = await build(target, `FROM ${target.fixture}\nARG TOKEN\nRUN echo built > /built\n`, tag, { TOKEN: SECRET });
      check(job.state === 'SUCCEEDED', `the build ended ${job.state} ${JSON.stringify(job.error)}`);
      const own = await target.request('GET', `/v1/images/${encodeURIComponent(tag)}/history`, target.tokens.builderA);
      check(own.body.includes(SECRET), 'the owning team does not see its own build arg');
      const rest = await target.request('GET', `/v1/images/${encodeURIComponent(tag)}/history`, target.tokens.builderB);
      check(rest.status === 200 && !rest.body.includes(SECRET), `another team's history answered ${rest.status} with the value`);
      const graphql = await target.graphql(target.tokens.builderB, 'query($r: String!) { imageHistory(ref: $r) { createdBy } }', { r: tag });
      check(!graphql.body.includes(SECRET) && graphql.body.includes('TOKEN'), `GraphQL answered ${graphql.body.slice(0, 300)}`);
    },
  },
];
