import { pathsToModuleNameMapper } from 'ts-jest';
import { compilerOptions } from '../../../tsconfig.base.json';

export default {
  displayName: 'dashboard-browser',
  preset: '../../../jest.preset.js',
  rootDir: '.',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../../../' }),
  testMatch: ['<rootDir>/browser/**/*.e2e.spec.ts'],
  globalSetup: '../../../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../../../libs/testing/jest-global-teardown.cjs',
  testTimeout: 240_000,
};
