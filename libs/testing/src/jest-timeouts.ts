// Jest's setupFilesAfterEnv (jest.preset.js): gives database and process tests the timeout of what they wait for.
// A file's own jest.setTimeout, or a test's own number, still wins: they run after this.
// Imports only ./timeouts: this runs in every test file, pure and browser ones too.
import { expect, jest } from '@jest/globals';
import { testTimeoutFor } from './timeouts';

const timeout = testTimeoutFor(expect.getState().testPath ?? '');
if (timeout !== null) jest.setTimeout(timeout);
