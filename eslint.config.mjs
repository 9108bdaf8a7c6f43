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
      // The arrows are apps/api -> libs/jobs -> libs/docker, and nothing else.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:jobs', 'scope:docker'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:api', 'scope:jobs', 'scope:docker'] },
            { sourceTag: 'scope:jobs', onlyDependOnLibsWithTags: ['scope:docker'] },
            { sourceTag: 'scope:docker', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
    },
  },
  {
    // The e2e harness boots the app's own source in-process (as immich's medium tests do), so it
    // reaches into apps/api by path; the boundaries above are for production code.
    files: ['test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // Only the engine adapter may speak dockerode; only the app may speak NestJS.
    files: ['apps/**/*.ts', 'libs/jobs/**/*.ts', 'test/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'dockerode stays inside libs/docker.' }] }],
    },
  },
  {
    files: ['libs/docker/**/*.ts', 'libs/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@nestjs/*'], message: 'libs stay framework-free; NestJS lives in apps/api.' }] },
      ],
    },
  },
];
