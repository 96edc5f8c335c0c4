import { POLL_TIMEOUT_MS } from './timeouts';

/** A value `waitFor` keeps polling past. */
type NotYet = undefined | null | false;

/**
 * Polls `check` until it returns something other than undefined, null or false, and resolves with it.
 * A check that throws counts as "not yet" (a server still starting refuses connections); after `timeoutMs`
 * it fails naming `what` and the last error seen.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | NotYet> | T | NotYet, timeoutMs = POLL_TIMEOUT_MS, intervalMs = 100): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, NotYet>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
