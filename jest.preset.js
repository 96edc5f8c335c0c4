// Shared jest settings: ts-jest transpiles only (type errors are the typecheck target's job),
// and the workspace path aliases resolve to the libraries' sources.
const { pathsToModuleNameMapper } = require('ts-jest');
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(ts|tsx|js|mjs)$': [
      'ts-jest',
      { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false },
    ],
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../../' }),
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Database (*.int.spec.ts) and process (*.e2e.spec.ts) tests get the timeouts of libs/testing/src/timeouts.ts.
  setupFilesAfterEnv: [path.join(__dirname, 'libs/testing/src/jest-timeouts.ts')],
};
