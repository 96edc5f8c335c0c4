export default {
  displayName: 'ddnn',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/libs/ddnn',
};
