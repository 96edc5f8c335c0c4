import { pathsToModuleNameMapper } from 'ts-jest';
import { compilerOptions } from '../tsconfig.base.json';

export default {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../' }),
  testMatch: ['<rootDir>/**/*.e2e.spec.ts'],
  globalSetup: '../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../libs/testing/jest-global-teardown.cjs',
  testTimeout: 180_000,
};
