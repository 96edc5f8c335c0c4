import { argmax, normalizedEntropy } from '../entropy';

/** Softmax rows of the upper exits for one pass over the validation split (edge: mean of the edges, 3-tier only). */
export interface ExitProbabilities {
  local: Float32Array[];
  edge: Float32Array[] | null;
  cloud: Float32Array[];
}

/**
 * The standard error of an accuracy measured on n samples, sqrt(p(1-p)/n), with p Laplace-smoothed so that a
 * perfect score still has an error of about one sample. Differences below it are what the validation split cannot
 * tell apart: the threshold and the kept epoch are chosen among such ties by what they cost (bytes, training).
 */
export function oneStandardError(accuracy: number, n: number): number {
  const p = (accuracy * n + 1) / (n + 2);
  return Math.sqrt((p * (1 - p)) / n);
}

/** The candidate thresholds: 0, 0.05, ..., 1. */
const GRID = Array.from({ length: 21 }, (_, k) => k / 20);

/**
 * The model's exit threshold from validation passes (the first intact; any others with one device dead, which
 * together weigh as much as the intact one): the largest T whose weighted accuracy is within one standard error
 * (sqrt(p(1-p)/n), p the best accuracy over n validation samples, Laplace-smoothed) of the best. A larger T exits more samples
 * locally and sends fewer bytes, so among the thresholds a hold-out of this size cannot tell apart this picks the
 * cheapest, a point of the accuracy/bytes frontier; the cloud gets the samples only where it measurably earns them
 * (the one-standard-error rule: with 69 validation samples one sample is 1.45 points, and "most accurate" alone
 * chose thresholds that were one lucky sample ahead and dominated on the test split).
 */
export function pickThreshold(passes: ExitProbabilities[], labels: Int32Array): number {
  const n = labels.length;
  if (n === 0 || passes.length === 0) throw new Error('choosing a threshold needs validation samples');
  const weightOf = (c: number) => (passes.length === 1 ? 1 : c === 0 ? 0.5 : 0.5 / (passes.length - 1));
  const accuracy = GRID.map((T) =>
    passes.reduce((sum, { local, edge, cloud }, c) => {
      let hits = 0;
      for (let i = 0; i < n; i++) {
        const p = normalizedEntropy(local[i]) < T ? local[i] : edge && normalizedEntropy(edge[i]) < T ? edge[i] : cloud[i];
        if (argmax(p) === labels[i]) hits++;
      }
      return sum + (weightOf(c) * hits) / n;
    }, 0),
  );
  const best = Math.max(...accuracy);
  // the tolerance keeps sums of weighted fractions that are equal on paper equal in float
  let k = GRID.length - 1;
  while (accuracy[k] < best - oneStandardError(best, n) - 1e-9) k--;
  return GRID[k];
}
