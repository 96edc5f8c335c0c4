export default {
  displayName: 'dashboard',
  preset: '../../jest.preset.js',
  rootDir: '.',
  roots: ['<rootDir>/src'],
  testEnvironment: 'jsdom',
  coverageDirectory: '../../coverage/apps/dashboard',
};
