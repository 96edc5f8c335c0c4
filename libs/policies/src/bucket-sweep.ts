import type { ThresholdStatistic } from '@ddnn/contracts';
import type { Counts } from './evaluate';
import type { LatencyColumns } from './latency';
import type { PreparedTable } from './prepared';

// Columns of one bucket: what its samples contribute when they exit locally (L_*) or go on (O_*).
const [L_COUNT, L_CORRECT, L_LABELLED, L_BYTES, L_LAT, O_EDGE, O_CLOUD, O_CORR_E, O_CORR_C, O_LAB_E, O_LAB_C, O_SCORES, O_FEATURES, O_LAT, O_MISS_E, O_MISS_C] =
  Array.from({ length: 16 }, (_, i) => i);
const COLS = 16;

/**
 * Sweeps the local threshold with a fixed edge threshold in one pass over the samples: the thresholds
 * are sorted, each sample falls into the bucket of the first threshold it exits under (a binary search
 * over the thresholds), and prefix sums over buckets give every point. Counts equal runRule's exactly
 * (integer sums); latency sums agree up to floating-point rounding.
 */
export function bucketSweep(p: PreparedTable, statistic: ThresholdStatistic, tauEdge: number, taus: number[], lat: LatencyColumns): Counts[] {
  const t = p.table;
  const P = taus.length;
  const byTau = taus.map((tau, i) => ({ tau, i })).sort((a, b) => a.tau - b.tau);
  const sortedTau = Float64Array.from(byTau, (x) => x.tau);
  const uL = p.uncertainty(statistic, 'local');
  const uE = t.edge ? p.uncertainty(statistic, 'edge') : null;
  const edgeReached = t.edgeReached;
  const cloudOk = t.cloud.computed;
  const cE = p.correct.edge ?? p.correct.cloud;
  const latEdge = lat.edge ?? lat.cloud;

  // Bucket b in 0..P: the sample exits locally at sorted points b, b+1, ...; P = never.
  const acc = new Float64Array((P + 1) * COLS);
  for (let s = 0; s < t.n; s++) {
    const u = uL[s]; // NaN (no local output) lands in bucket P: never exits locally
    let lo = 0;
    let hi = P;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u < sortedTau[mid]) hi = mid;
      else lo = mid + 1;
    }
    const o = lo * COLS;
    acc[o + L_COUNT]++;
    acc[o + L_CORRECT] += p.correct.local[s];
    acc[o + L_LABELLED] += p.labelled[s];
    acc[o + L_BYTES] += p.scoresBytes[s];
    acc[o + L_LAT] += lat.local[s];
    if (uE && !edgeReached[s]) acc[o + O_MISS_E]++;
    else if (uE && uE[s] < tauEdge) {
      acc[o + O_EDGE]++;
      acc[o + O_CORR_E] += cE[s];
      acc[o + O_LAB_E] += p.labelled[s];
      acc[o + O_SCORES] += p.scoresBytes[s];
      acc[o + O_FEATURES] += p.featuresBytes[s];
      acc[o + O_LAT] += latEdge[s];
    } else if (!cloudOk[s]) acc[o + O_MISS_C]++;
    else {
      acc[o + O_CLOUD]++;
      acc[o + O_CORR_C] += p.correct.cloud[s];
      acc[o + O_LAB_C] += p.labelled[s];
      acc[o + O_SCORES] += p.scoresBytes[s];
      acc[o + O_FEATURES] += p.featuresBytes[s] + p.edgeBytes[s];
      acc[o + O_LAT] += lat.cloud[s];
    }
  }
  const total = new Float64Array(COLS);
  for (let b = 0; b <= P; b++) for (let c = 0; c < COLS; c++) total[c] += acc[b * COLS + c];

  const out = new Array<Counts>(P);
  const upTo = new Float64Array(COLS); // sums over buckets 0..j: samples that exit locally at sorted point j
  for (let j = 0; j < P; j++) {
    for (let c = 0; c < COLS; c++) upTo[c] += acc[j * COLS + c];
    const on = (c: number) => total[c] - upTo[c];
    out[byTau[j].i] = {
      exited: [upTo[L_COUNT], on(O_EDGE), on(O_CLOUD)],
      correct: [upTo[L_CORRECT], on(O_CORR_E), on(O_CORR_C)],
      labelled: [upTo[L_LABELLED], on(O_LAB_E), on(O_LAB_C)],
      missing: [0, on(O_MISS_E), on(O_MISS_C)],
      scoresBytes: upTo[L_BYTES] + on(O_SCORES),
      featuresBytes: on(O_FEATURES),
      rawBytes: 0,
      latencySum: upTo[L_LAT] + on(O_LAT),
    };
  }
  return out;
}
