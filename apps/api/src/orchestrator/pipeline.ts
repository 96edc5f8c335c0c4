/** Longest pause between two looks at shouldStop while pacing. */
const STOP_CHECK_MS = 100;

export interface PipelineOptions {
  /** Most items in flight at once. */
  window: number;
  /** Items started per second at most (undefined: no pacing). */
  rate?: number;
  /** Checked before each start; true ends the run early (items in flight still finish). */
  shouldStop?: () => boolean;
}

/**
 * Runs `work` over `items` with at most `window` in flight, starting them in order, so one slow item
 * (a slow device on one sample) does not hold up the others. Rejects with the first failure after the
 * items in flight have settled; returns how many items were started.
 */
export async function runPipelined<T>(items: readonly T[], work: (item: T) => Promise<void>, opts: PipelineOptions): Promise<number> {
  if (!Number.isInteger(opts.window) || opts.window < 1) throw new Error(`pipeline window must be a positive integer, got ${opts.window}`);
  // A count and one waiter, not Promise.race over the items in flight: a race subscribes to every pending item,
  // so each start cost O(window) reactions that all fire when the items settle (O(window) per sample).
  let inFlight = 0;
  let slotFreed: (() => void) | null = null;
  let allSettled: (() => void) | null = null;
  let failure: { error: unknown } | null = null;
  let started = 0;
  const settle = (): void => {
    inFlight--;
    const wake = slotFreed;
    slotFreed = null;
    wake?.();
    if (inFlight === 0) allSettled?.();
  };
  const t0 = performance.now();
  for (const item of items) {
    if (failure || opts.shouldStop?.()) break;
    while (inFlight >= opts.window) await new Promise<void>((r) => (slotFreed = r));
    if (failure) break;
    if (opts.rate) {
      const due = t0 + (started * 1000) / opts.rate;
      const wait = due - performance.now();
      // Slept in slices, so a stop lands within a slice however slow the rate is.
      for (let left = wait; left > 0 && !opts.shouldStop?.(); left = due - performance.now()) {
        await new Promise((r) => setTimeout(r, Math.min(left, STOP_CHECK_MS)));
      }
      if (opts.shouldStop?.()) break;
    }
    inFlight++;
    started++;
    work(item)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(settle);
  }
  if (inFlight > 0) await new Promise<void>((r) => (allSettled = r));
  if (failure) throw (failure as { error: unknown }).error;
  return started;
}
