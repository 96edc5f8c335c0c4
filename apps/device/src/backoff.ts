/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 10 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}
