import type { ThresholdStatistic } from '@ddnn/contracts';
import type { Counts } from './evaluate';
import type { LatencyColumns } from './latency';
import type { PreparedTable } from './prepared';

const [EX_L, EX_E, EX_C, OK_L, OK_E, OK_C, LAB_L, LAB_E, LAB_C, MISS_E, MISS_C, UNANS, SCORES, FEATURES, LAT] = Array.from({ length: 15 }, (_, i) => i);
const COLS = 15;

/** First index j of ascending `sorted` with u < sorted[j] (sorted.length when none, and for NaN). */
function firstAbove(sorted: Float64Array, u: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < sorted[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A whole threshold sweep in one pass over the samples. With the points sorted, a sample answers at the
 * cloud for points below both its breakpoints, at the edge between its edge and local breakpoints, and
 * locally from its local breakpoint on (breakpoint = first point whose tau exceeds its statistic, found
 * by binary search). Each sample adds its contribution to those ranges of a difference array; one
 * prefix sum then gives every point. The edge tau either moves with the local one or stays fixed.
 * Counts equal runRule's exactly (integer sums); latency sums agree up to floating-point rounding.
 */
export function bucketSweep(
  p: PreparedTable,
  statistic: ThresholdStatistic,
  edge: { tau: number } | 'same',
  taus: number[],
  lat: LatencyColumns,
): Counts[] {
  const t = p.table;
  const P = taus.length;
  const byTau = taus.map((tau, i) => ({ tau, i })).sort((a, b) => a.tau - b.tau);
  const sortedTau = Float64Array.from(byTau, (x) => x.tau);
  const uL = p.uncertainty(statistic, 'local');
  const uE = t.edge ? p.uncertainty(statistic, 'edge') : null;
  const cE = p.correct.edge ?? p.correct.cloud;
  const latEdge = lat.edge ?? lat.cloud;
  // Difference array: a range [from, to) adds at row `from` and subtracts at row `to` (row P is never read).
  const diff = new Float64Array((P + 1) * COLS);
  for (let s = 0; s < t.n; s++) {
    const bL = firstAbove(sortedTau, uL[s]);
    const labelled = p.labelled[s];
    const scores = p.scoresBytes[s];
    if (bL < P) {
      const o = bL * COLS;
      diff[o + EX_L] += 1;
      diff[o + OK_L] += p.correct.local[s];
      diff[o + LAB_L] += labelled;
      diff[o + SCORES] += scores;
      diff[o + LAT] += lat.local[s];
    }
    if (bL === 0) continue;
    const end = bL * COLS;
    if (p.unfed[s]) {
      // Past the local exit, nothing of this sample went on: unanswered at every point below its local breakpoint,
      // its scores sent all the same.
      diff[UNANS] += 1;
      diff[end + UNANS] -= 1;
      diff[SCORES] += scores;
      diff[end + SCORES] -= scores;
      continue;
    }
    let bCloud = bL; // points [0, bCloud) send the sample to the cloud
    if (uE) {
      if (!t.edgeReached[s]) {
        diff[MISS_E] += 1;
        diff[end + MISS_E] -= 1;
        continue;
      }
      const bE = Math.min(bL, edge === 'same' ? firstAbove(sortedTau, uE[s]) : uE[s] < edge.tau ? 0 : P);
      if (bE < bL) {
        const o = bE * COLS;
        const ok = cE[s];
        const features = p.featuresBytes[s];
        const ms = latEdge[s];
        diff[o + EX_E] += 1;
        diff[end + EX_E] -= 1;
        diff[o + OK_E] += ok;
        diff[end + OK_E] -= ok;
        diff[o + LAB_E] += labelled;
        diff[end + LAB_E] -= labelled;
        diff[o + SCORES] += scores;
        diff[end + SCORES] -= scores;
        diff[o + FEATURES] += features;
        diff[end + FEATURES] -= features;
        diff[o + LAT] += ms;
        diff[end + LAT] -= ms;
      }
      bCloud = bE;
    }
    if (bCloud === 0) continue;
    const c = bCloud * COLS;
    if (!t.cloud.computed[s]) {
      diff[MISS_C] += 1;
      diff[c + MISS_C] -= 1;
      continue;
    }
    const ok = p.correct.cloud[s];
    const features = p.featuresBytes[s] + p.edgeBytes[s];
    const ms = lat.cloud[s];
    diff[EX_C] += 1;
    diff[c + EX_C] -= 1;
    diff[OK_C] += ok;
    diff[c + OK_C] -= ok;
    diff[LAB_C] += labelled;
    diff[c + LAB_C] -= labelled;
    diff[SCORES] += scores;
    diff[c + SCORES] -= scores;
    diff[FEATURES] += features;
    diff[c + FEATURES] -= features;
    diff[LAT] += ms;
    diff[c + LAT] -= ms;
  }

  const out = new Array<Counts>(P);
  const v = new Float64Array(COLS);
  for (let j = 0; j < P; j++) {
    for (let c = 0; c < COLS; c++) v[c] += diff[j * COLS + c];
    out[byTau[j].i] = {
      exited: [v[EX_L], v[EX_E], v[EX_C]],
      correct: [v[OK_L], v[OK_E], v[OK_C]],
      labelled: [v[LAB_L], v[LAB_E], v[LAB_C]],
      missing: [0, v[MISS_E], v[MISS_C]],
      unanswered: v[UNANS],
      scoresBytes: v[SCORES],
      featuresBytes: v[FEATURES],
      rawBytes: 0,
      latencySum: v[LAT],
    };
  }
  return out;
}
