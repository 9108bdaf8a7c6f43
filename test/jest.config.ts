import type { Config } from 'jest';

/** End-to-end suites: the real app against the real engine, Redis and registries. */
const config: Config = {
  displayName: 'e2e',
  rootDir: '..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/suites/**/*.e2e.ts', '<rootDir>/test/hostile/**/*.e2e.ts', '<rootDir>/test/faults/**/*.e2e.ts'],
  transform: {
    // Type-checking is `make typecheck`'s job; here we only transpile, which keeps CI quick.
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@drydock/client$': '<rootDir>/libs/client/src/index.ts',
    '^@drydock/client/node$': '<rootDir>/libs/client/src/node.ts',
    '^@drydock/core$': '<rootDir>/libs/core/src/index.ts',
    '^@drydock/docker$': '<rootDir>/libs/docker/src/index.ts',
    '^@drydock/jobs$': '<rootDir>/libs/jobs/src/index.ts',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.nx', '<rootDir>/.data'],
  testTimeout: 120_000,
  globalTeardown: '<rootDir>/test/support/teardown.ts',
  // Suites share one engine and one registry; running them one at a time keeps each assertion about the engine's state honest.
  maxWorkers: 1,
};

export default config;
