import fs from 'node:fs';
import path from 'node:path';
import { pathsToModuleNameMapper } from 'ts-jest';

// Read, not imported: the jest executor compiles this file without resolveJsonModule.
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tsconfig.base.json'), 'utf8'));

export default {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/../' }),
  testMatch: ['<rootDir>/**/*.e2e.spec.ts'],
  globalSetup: '../libs/testing/jest-global-setup.cjs',
  globalTeardown: '../libs/testing/jest-global-teardown.cjs',
};
