import fs from 'node:fs';
import path from 'node:path';
import { pathsToModuleNameMapper } from 'ts-jest';

// Read rather than imported: Nx loads this file with a compiler setup that does not resolve JSON modules.
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../tsconfig.base.json'), 'utf8'));

export default {
  displayName: 'dashboard-browser',
  preset: '../../../jest.preset.js',
  rootDir: '.',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../../../' }),
  testMatch: ['<rootDir>/browser/**/*.e2e.spec.ts'],
  globalSetup: '../../../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../../../libs/testing/jest-global-teardown.cjs',
};
