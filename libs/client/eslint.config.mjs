import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // Written by `nx run client:generate`; its generators' style, not ours.
  { ignores: ['src/generated/**'] },
  {
    // The browser entry (the console bundles it) reaches no Node module; @drydock/client/node does.
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/lib/build-directory.ts', 'src/**/*.spec.ts', 'src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'tar-fs', 'ws', 'fs', 'path', 'stream'], message: 'the browser entry stays free of Node modules: put this in @drydock/client/node.' }] },
      ],
    },
  },
  {
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: ['{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}', '{projectRoot}/src/**/*.spec.ts', '{projectRoot}/src/testing/**'],
        },
      ],
    },
    languageOptions: {
      parser: await import('jsonc-eslint-parser'),
    },
  },
];
