import { DATABASE_TEST_TIMEOUT_MS, POLL_TIMEOUT_MS, PROCESS_TEST_TIMEOUT_MS, testTimeoutFor } from './timeouts';

/** What jest.setTimeout set for this file (jest-circus keeps it on the global under this symbol). */
const fileTimeout = () => (globalThis as Record<symbol, unknown>)[Symbol.for('TEST_TIMEOUT_SYMBOL')];

describe('test timeouts', () => {
  it('go by what a file waits for, as its name says', () => {
    expect(testTimeoutFor('/repo/apps/api/src/streams/stream-window.int.spec.ts')).toBe(DATABASE_TEST_TIMEOUT_MS);
    expect(testTimeoutFor('/repo/test/e2e/monitoring.e2e.spec.ts')).toBe(PROCESS_TEST_TIMEOUT_MS);
    expect(testTimeoutFor('/repo/apps/dashboard/src/lib/live.spec.tsx')).toBeNull();
    expect(testTimeoutFor('/repo/libs/events/src/int.spec.helpers.ts')).toBeNull();
  });

  it('outlast a poll, so a condition never met fails naming it, not as a bare jest timeout', () => {
    expect(DATABASE_TEST_TIMEOUT_MS).toBeGreaterThan(POLL_TIMEOUT_MS);
    expect(PROCESS_TEST_TIMEOUT_MS).toBeGreaterThan(DATABASE_TEST_TIMEOUT_MS);
  });

  it("leave a unit test on jest's own default (the preset's setup sets nothing here)", () => {
    expect(fileTimeout()).toBeUndefined();
  });
});
