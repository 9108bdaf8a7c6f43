module.exports = {
  displayName: 'console',
  preset: '../../jest.preset.js',
  // The specs cover the console's pure parts (event replay, the tar packer); pages are the browser suite's.
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'tsx', 'js'],
  coverageDirectory: '../../coverage/apps/console',
};
