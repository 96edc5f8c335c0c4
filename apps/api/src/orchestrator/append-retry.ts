import { retryWhileUnavailable } from '@ddnn/events';

/**
 * Runs one append of a session, retrying with backoff while the database is unreachable, for at most
 * `outageLimitMs` from the first failure. `warn` hears of the outage once when it starts and once when it ends.
 */
export async function appendThroughOutages<T>(append: () => Promise<T>, outageLimitMs: number, warn: (message: string) => void): Promise<T> {
  let retried = 0;
  let started = 0;
  const result = await retryWhileUnavailable(append, {
    outageLimitMs,
    onRetry: (e, attempt) => {
      retried = attempt;
      if (attempt === 1) {
        started = performance.now();
        warn(`database unavailable (${(e as Error).message}); retrying the append for up to ${outageLimitMs} ms`);
      }
    },
  });
  if (retried) warn(`append went through after ${retried} retries (${Math.round(performance.now() - started)} ms)`);
  return result;
}
