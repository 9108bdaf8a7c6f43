module.exports = {
  displayName: 'client',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  // tsconfig.spec.json sets isolatedModules: specs are only transpiled; type-checking is `nx typecheck`'s job.
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/libs/client',
};
