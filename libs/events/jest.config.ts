export default {
  displayName: 'events',
  preset: '../../jest.preset.js',
  rootDir: '.',
  globalSetup: '../../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../../libs/testing/jest-global-teardown.cjs',
  coverageDirectory: '../../coverage/libs/events',
  // Integration tests share two busy cores with other work; they wait for conditions, never sleep.
  testTimeout: 60_000,
};
