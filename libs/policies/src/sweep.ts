import type { ExitTier, LinkModel, SweepPoint, SweepResult, ThresholdStatistic } from '@ddnn/contracts';
import { accuracyOf, answeredSamples, notEvaluableReason, runRule } from './evaluate';
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
   * 'auto' (default) answers every point from one pass over the samples (bucketSweep); 'linear' runs
   * the evaluation core once per point (the reference, and the benchmark's comparison).
   */
  method?: 'auto' | 'linear';
}

/** Evenly spaced thresholds over [0, 1], the natural range of entropy, confidence and margin. */
export function thresholdGrid(points: number): number[] {
  if (!Number.isInteger(points) || points < 2) throw new Error(`a sweep needs an integer >= 2 points, got ${points}`);
  return Array.from({ length: points }, (_, i) => i / (points - 1));
}

/**
 * Accuracy, exit rates, bytes and mean latency of a threshold policy at each threshold, all points from
 * one pass over the table's typed arrays (method 'linear': the evaluatePolicy core once per point).
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
  const edgeFixed = options.edgeThreshold;
  const sameEdge = edgeFixed === undefined || edgeFixed === 'same';
  const taus = thresholds.map((x) => tauOf(statistic, x));
  const fast =
    options.method !== 'linear'
      ? bucketSweep(p, statistic, sameEdge ? 'same' : { tau: tauOf(statistic, edgeFixed) }, taus, lat)
      : null;
  const result: SweepPoint[] = thresholds.map((threshold, i) => {
    const edge = sameEdge ? threshold : edgeFixed;
    const k = fast
      ? fast[i]
      : runRule(p, { statistic, tau: { local: tauOf(statistic, threshold), edge: tauOf(statistic, edge) } }, tiers, lat);
    const evaluable = notEvaluableReason(table, k) === null;
    const n = answeredSamples(table, k);
    const per = (x: number) => (n === 0 ? 0 : x / n);
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
