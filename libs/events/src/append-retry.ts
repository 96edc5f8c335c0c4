import { DatabaseUnavailableError, isDatabaseUnavailable } from './database-errors';

export interface RetryOptions {
  /** Give up once the database has been unreachable this long (ms, measured from the first failure). */
  outageLimitMs: number;
  /** First wait between attempts (default 50 ms), doubled up to maxDelayMs (default 2000 ms). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Told about each failed attempt before the next. */
  onRetry?(error: unknown, attempt: number, waitedMs: number): void;
  /** Stops retrying early (e.g. the process is shutting down). */
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, retrying with exponential backoff while the database is unavailable.
 * Other errors are thrown at once. After `outageLimitMs` of failures it throws a DatabaseUnavailableError.
 * Only for idempotent work: an append whose events carry their ids is (a retry of a committed append is
 * answered with the stored result).
 */
export async function retryWhileUnavailable<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const first = performance.now();
  let delay = options.initialDelayMs ?? 50;
  const maxDelay = options.maxDelayMs ?? 2000;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isDatabaseUnavailable(e)) throw e;
      const waited = performance.now() - first;
      if (waited >= options.outageLimitMs || options.signal?.aborted) {
        throw new DatabaseUnavailableError(`the database has been unavailable for ${Math.round(waited)} ms (${(e as Error).message})`, { cause: e });
      }
      options.onRetry?.(e, n, waited);
      await sleep(Math.min(delay, Math.max(1, options.outageLimitMs - waited)), options.signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
