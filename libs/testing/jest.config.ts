export default {
  displayName: 'testing',
  preset: '../../jest.preset.js',
  rootDir: '.',
  globalSetup: '<rootDir>/jest-global-setup.cjs',
  globalTeardown: '<rootDir>/jest-global-teardown.cjs',
  coverageDirectory: '../../coverage/libs/testing',
};
