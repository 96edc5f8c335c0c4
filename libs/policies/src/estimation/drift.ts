/**
 * Drift of a distribution against a reference: the population stability index (PSI) over coarse bins, as
 * model-monitoring tools report it (under 0.1 stable, 0.1-0.25 moderate, over 0.25 shifted).
 */

/** Bins PSI is computed over: fine histograms are summed into this many, so that sparse windows stay stable. */
export const PSI_BINS = 10;
/** Share given to an empty bin so that the log stays finite (the usual smoothing). */
const EMPTY_SHARE = 1e-4;

/** Sums a dense histogram of `fine.length` bins into `bins` equal groups. */
export function coarsen(fine: number[], bins = PSI_BINS): number[] {
  const out = new Array<number>(bins).fill(0);
  fine.forEach((v, i) => (out[Math.min(bins - 1, Math.floor((i * bins) / fine.length))] += v));
  return out;
}

/**
 * PSI = sum (a - e) ln(a / e) over bins of the two distributions' shares; null when either is empty.
 * Both histograms must have the same bins.
 */
export function populationStabilityIndex(reference: number[], current: number[]): number | null {
  if (reference.length !== current.length) throw new Error('PSI needs histograms of the same bins');
  const nr = reference.reduce((s, v) => s + v, 0);
  const nc = current.reduce((s, v) => s + v, 0);
  if (nr <= 0 || nc <= 0) return null;
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = Math.max(reference[i] / nr, EMPTY_SHARE);
    const a = Math.max(current[i] / nc, EMPTY_SHARE);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}
