export default {
  displayName: 'events',
  preset: '../../jest.preset.js',
  rootDir: '.',
  globalSetup: '../../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../../libs/testing/jest-global-teardown.cjs',
  coverageDirectory: '../../coverage/libs/events',
};
