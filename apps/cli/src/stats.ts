/** The middle of the values (the mean of the two middle ones for an even count): benches report it over rounds. */
export function median(xs: readonly number[]): number {
  // An empty list has no median: a NaN here would end up in a bench's JSON line.
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** x rounded to `digits` decimals, for the numbers a bench prints. */
export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
