import type { ExitTier, LinkModel, SweepPoint, SweepResult, ThresholdStatistic } from '@ddnn/contracts';
import { accuracyOf, notEvaluableReason, runRule } from './evaluate';
import { latencyColumns } from './latency';
import { prepare } from './prepared';
import { bucketSweep } from './bucket-sweep';
import type { SessionSampleTable } from './session-table';
import { tauOf } from './statistics';

export interface SweepOptions {
  linkModel?: LinkModel;
  /** Edge threshold at every point: 'same' (default) uses the swept value, a number fixes it. */
  edgeThreshold?: 'same' | number;
  /**
   * 'auto' (default) buckets the samples by threshold in one pass when the edge threshold
   * does not move (no edge tier, or a fixed one); 'linear' runs the evaluation core once per point.
   */
  method?: 'auto' | 'linear';
}

/** Evenly spaced thresholds over [0, 1], the natural range of entropy, confidence and margin. */
export function thresholdGrid(points: number): number[] {
  if (!Number.isInteger(points) || points < 2) throw new Error(`a sweep needs an integer >= 2 points, got ${points}`);
  return Array.from({ length: points }, (_, i) => i / (points - 1));
}

/**
 * Accuracy, exit rates, bytes and mean latency of a threshold policy at each threshold: one pass over
 * the table's typed arrays per point, sharing the evaluation core with evaluatePolicy.
 */
export function sweep(
  table: SessionSampleTable,
  statistic: ThresholdStatistic,
  points: number | number[] = 100,
  options: SweepOptions = {},
): SweepResult {
  const thresholds = typeof points === 'number' ? thresholdGrid(points) : points;
  if (thresholds.some((x) => !Number.isFinite(x))) throw new Error('sweep thresholds must be finite numbers');
  const p = prepare(table);
  const lat = latencyColumns(table, options.linkModel);
  const tiers = new Uint8Array(table.n);
  const n = table.n;
  const per = (x: number) => (n === 0 ? 0 : x / n);
  const edgeFixed = options.edgeThreshold;
  const edgeMoves = table.edge !== null && (edgeFixed === undefined || edgeFixed === 'same');
  const sorted =
    options.method !== 'linear' && !edgeMoves
      ? bucketSweep(p, statistic, typeof edgeFixed === 'number' ? tauOf(statistic, edgeFixed) : -Infinity, thresholds.map((x) => tauOf(statistic, x)), lat)
      : null;
  const result: SweepPoint[] = thresholds.map((threshold, i) => {
    const edge = edgeFixed === undefined || edgeFixed === 'same' ? threshold : edgeFixed;
    const k = sorted
      ? sorted[i]
      : runRule(p, { statistic, tau: { local: tauOf(statistic, threshold), edge: tauOf(statistic, edge) } }, tiers, lat);
    const evaluable = notEvaluableReason(table, k) === null;
    const exitRates: Partial<Record<ExitTier, number>> = { local: per(k.exited[0]), cloud: per(k.exited[2]) };
    if (table.edge) exitRates.edge = per(k.exited[1]);
    return {
      threshold,
      evaluable,
      accuracy: evaluable ? accuracyOf(k) : null,
      localExitRate: per(k.exited[0]),
      exitRates,
      bytesPerSample: per(k.scoresBytes + k.featuresBytes + k.rawBytes),
      meanLatencyMs: per(k.latencySum),
    };
  });
  return { sessionId: table.sessionId, statistic, points: result };
}
