import { DATABASE_TEST_TIMEOUT_MS } from './timeouts';

// The preset's setup file (jest.preset.js -> jest-timeouts.ts) runs before this file: a database test gets its timeout.
describe('the preset', () => {
  it('gives a database test file the database timeout', () => {
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('TEST_TIMEOUT_SYMBOL')]).toBe(DATABASE_TEST_TIMEOUT_MS);
  });
});
