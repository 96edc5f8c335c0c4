export default {
  displayName: 'datasets',
  preset: '../../jest.preset.js',
  rootDir: '.',
  coverageDirectory: '../../coverage/libs/datasets',
};
