/**
 * Fixed-bin histograms over [0, 1] (confidences, normalized entropies) and over latencies. The metrics rollup
 * stores them sparse (bin index -> count) so that buckets merge by addition and quantiles, drift and the
 * accuracy estimate are read back from any sum of buckets.
 */

/** Bins of max-probability confidence in [0, 1]: fine enough that one bin's calibration holds within it. */
export const CONFIDENCE_BINS = 50;
/** Bins of normalized entropy in [0, 1]: quantiles to within 0.005. */
export const ENTROPY_BINS = 100;

/** Sparse histogram: bin index (as a string key, JSON-friendly) -> count. */
export type SparseHistogram = Record<string, number>;

/** The bin of x in [0, 1] among `bins` equal bins (x = 1 falls in the last; out-of-range values clamp). */
export function unitBin(x: number, bins: number): number {
  if (!(x > 0)) return 0;
  return Math.min(bins - 1, Math.floor(x * bins));
}

/**
 * Latency bins: 0-1 ms, then 16 bins per doubling up to about 2^17 ms (131 s); above that the last bin. Upper
 * bounds grow by 2^(1/16) (4.4%), so a quantile read back is within about 2% of the true value.
 */
export const LATENCY_BINS = 16 * 17 + 1;
export function latencyBin(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BINS - 1, 1 + Math.floor(Math.log2(ms) * 16));
}
/** [lower, upper) of a latency bin in ms. */
export function latencyBinRange(bin: number): [number, number] {
  if (bin <= 0) return [0, 1];
  return [2 ** ((bin - 1) / 16), 2 ** (bin / 16)];
}
export function unitBinRange(bin: number, bins: number): [number, number] {
  return [bin / bins, (bin + 1) / bins];
}

/** Dense counts of a sparse histogram (indices outside [0, bins) are dropped). */
export function denseHistogram(h: SparseHistogram | undefined, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  for (const [k, v] of Object.entries(h ?? {})) {
    const i = Number(k);
    if (Number.isInteger(i) && i >= 0 && i < bins && Number.isFinite(v)) out[i] += v;
  }
  return out;
}

/**
 * The q-quantile (0..1) of a histogram of `bins` bins, interpolated linearly within its bin; null when it is
 * empty. `range(bin)` gives a bin's [lower, upper). Scans the bins in order (no sort: charts ask this per point).
 */
export function histogramQuantile(h: SparseHistogram | undefined, q: number, bins: number, range: (bin: number) => [number, number]): number | null {
  if (!h) return null;
  let total = 0;
  for (const k in h) total += h[k] > 0 ? h[k] : 0;
  if (total <= 0) return null;
  const target = Math.min(Math.max(q, 0), 1) * total;
  let seen = 0;
  let last = 0;
  for (let bin = 0; bin < bins; bin++) {
    const v = h[bin];
    if (!(v > 0)) continue;
    last = bin;
    if (seen + v >= target) {
      const [lo, hi] = range(bin);
      return lo + ((target - seen) / v) * (hi - lo);
    }
    seen += v;
  }
  return range(last)[1];
}

/** The sum of sparse histograms (counts of the same key add). */
export function mergeHistograms(hs: readonly (SparseHistogram | undefined)[]): SparseHistogram {
  const out: SparseHistogram = {};
  for (const h of hs) for (const [k, v] of Object.entries(h ?? {})) if (Number.isFinite(v)) out[k] = (out[k] ?? 0) + v;
  return out;
}
