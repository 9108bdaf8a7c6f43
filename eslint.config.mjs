import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/node_modules', '.data'],
  },
  {
    files: ['**/*.ts', '**/*.js'],
    rules: {
      // The arrows are apps/api -> libs/jobs -> libs/docker -> libs/core, and nothing else;
      // libs/core (the error vocabulary and the reference grammar) depends on nothing. The console
      // speaks only Drydock's public API, through libs/client, which is published on its own and so
      // depends on nothing of the server's.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:jobs', 'scope:docker', 'scope:core'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:api', 'scope:jobs', 'scope:docker', 'scope:core', 'scope:client'] },
            { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:client'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:jobs', onlyDependOnLibsWithTags: ['scope:docker', 'scope:core'] },
            { sourceTag: 'scope:docker', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
    },
  },
  {
    // `const { dropped, ...kept } = x` leaves `dropped` unused on purpose: dropping it is the point.
    files: ['**/*.ts', '**/*.tsx'],
    rules: { '@typescript-eslint/no-unused-vars': ['warn', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  {
    // The e2e harness boots the app's own source in-process (as immich's medium tests do), so it
    // reaches into apps/api by path; the boundaries above are for production code.
    files: ['test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  // Only the engine adapter may speak dockerode; only the app may speak NestJS; libraries trace through
  // @opentelemetry/api alone, a no-op until the app starts an SDK (their specs may record spans). One
  // block per group of files, each with all of its restrictions: a later block's setting of a rule
  // replaces an earlier one's.
  restrictImports(['apps/**/*.ts', 'test/**/*.ts'], { dockerode: true }),
  restrictImports(['libs/core/**/*.ts', 'libs/jobs/**/*.ts'], { dockerode: true, nest: true, otelSdk: true }),
  restrictImports(['libs/core/**/*.spec.ts', 'libs/jobs/**/*.spec.ts'], { dockerode: true, nest: true }),
  restrictImports(['libs/docker/**/*.ts'], { nest: true, otelSdk: true }),
  restrictImports(['libs/docker/**/*.spec.ts'], { nest: true }),
];

function restrictImports(files, { dockerode = false, nest = false, otelSdk = false }) {
  const paths = dockerode ? [{ name: 'dockerode', message: 'dockerode stays inside libs/docker.' }] : [];
  const patterns = [
    ...(nest ? [{ group: ['@nestjs/*'], message: 'libs stay framework-free; NestJS lives in apps/api.' }] : []),
    ...(otelSdk
      ? [
          {
            group: ['@opentelemetry/sdk-*', '@opentelemetry/instrumentation*', '@opentelemetry/exporter-*'],
            message: "libs speak @opentelemetry/api; the SDK is the app's (apps/api/src/app/telemetry).",
          },
        ]
      : []),
  ];
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}
