/**
 * How long tests wait, by what they wait for. CI runs every suite on 2 shared cores, so these are bounds on a
 * loaded machine, not expectations: a test that passes only when the machine is idle is a defect.
 */

/** How long `waitFor` polls by default for one condition (a server up, an event logged, a rollup folded). */
export const POLL_TIMEOUT_MS = 60_000;

/** How long a started process (the API, a device agent) has to become healthy. */
export const PROCESS_START_TIMEOUT_MS = 90_000;

/** How long a session runs to its end, or to a number of samples, in a test (a few dozen samples on loaded cores). */
export const RUN_TIMEOUT_MS = 2 * POLL_TIMEOUT_MS;

/**
 * A database test (*.int.spec.ts): a fresh database and its migrations, then appends, reads and at most one
 * polled condition. Longer than a poll, so that a condition never met fails naming it rather than as a bare
 * jest timeout.
 */
export const DATABASE_TEST_TIMEOUT_MS = 2 * POLL_TIMEOUT_MS;

/**
 * A process test (*.e2e.spec.ts): a platform booted as real processes (API, devices, CLI, a browser), a run
 * through it and a polled condition after it. Tests that do more say so with their own number.
 */
export const PROCESS_TEST_TIMEOUT_MS = PROCESS_START_TIMEOUT_MS + RUN_TIMEOUT_MS + POLL_TIMEOUT_MS;

/** The timeout a test file gets by what it is (its name says: *.int.spec.ts, *.e2e.spec.ts); null: jest's default (a unit test). */
export function testTimeoutFor(testPath: string): number | null {
  if (/\.int\.spec\.[cm]?[jt]sx?$/.test(testPath)) return DATABASE_TEST_TIMEOUT_MS;
  if (/\.e2e\.spec\.[cm]?[jt]sx?$/.test(testPath)) return PROCESS_TEST_TIMEOUT_MS;
  return null;
}
