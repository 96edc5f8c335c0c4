import type { LinkModel, ThresholdStatistic } from '@ddnn/contracts';
import { sessionSamplesFromEvents } from './session-table';
import { sweep } from './sweep';
import { syntheticSessionEvents } from './synthetic';

/** What benchmarkSweep measured, in milliseconds. */
export interface SweepBenchmark {
  samples: number;
  points: number;
  events: number;
  /** Building the per-sample table from the loaded events. */
  tableMs: number;
  /** Sorted sweep on a fresh table: includes deriving its columns and sorting. */
  sweepMs: number;
  /** The same sorted sweep again on the warmed table. */
  repeatSweepMs: number;
  /** The per-point evaluation core (one pass per point) on the warmed table, for comparison. */
  linearSweepMs: number;
  /** linearSweepMs / repeatSweepMs, measured in this run. */
  speedup: number;
}

const LINKS: LinkModel = { default: { latencyMs: 5, bandwidthKbps: 1000 } };

function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, performance.now() - t];
}

/**
 * Times a threshold sweep over a simulated research session (the `bench analysis` workload): events are
 * generated first and are not timed, as if loaded from the log.
 */
export function benchmarkSweep(samples = 100_000, points = 100, statistic: ThresholdStatistic = 'entropy', seed = 1): SweepBenchmark {
  const events = syntheticSessionEvents({ samples, seed, missScores: 0.02, missFeatures: 0.02 });
  const [table, tableMs] = timed(() => sessionSamplesFromEvents(events));
  const [first, sweepMs] = timed(() => sweep(table, statistic, points, { linkModel: LINKS }));
  const [, repeatSweepMs] = timed(() => sweep(table, statistic, points, { linkModel: LINKS }));
  const [linear, linearSweepMs] = timed(() => sweep(table, statistic, points, { linkModel: LINKS, method: 'linear' }));
  if (first.points.length !== points || linear.points.some((p, i) => p.accuracy !== first.points[i].accuracy)) {
    throw new Error('sorted and linear sweeps disagree');
  }
  return {
    samples: table.n,
    points,
    events: events.length,
    tableMs,
    sweepMs,
    repeatSweepMs,
    linearSweepMs,
    speedup: linearSweepMs / repeatSweepMs,
  };
}
