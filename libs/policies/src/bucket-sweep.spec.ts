import type { ThresholdStatistic } from '@ddnn/contracts';
import { bucketSweep } from './bucket-sweep';
import { runRule } from './evaluate';
import { latencyColumns } from './latency';
import { prepare } from './prepared';
import { sessionSamplesFromEvents } from './session-table';
import { tauOf } from './statistics';
import { syntheticSessionEvents, type SyntheticSessionOptions } from './synthetic';

describe('bucketSweep', () => {
  const failure: SyntheticSessionOptions = { samples: 300, seed: 19, devices: 2, edges: ['a', 'b'], missScores: 0.4, missFeatures: 0.1, missEdges: 0.4 };
  const sessions: [string, SyntheticSessionOptions][] = [
    ['research, no edge', { samples: 300, seed: 3, missScores: 0.1 }],
    ['production, no edge', { samples: 300, seed: 3, missScores: 0.1, mode: 'production', thresholds: { local: 0.7 } }],
    ['research, failing edges', failure],
    ['production, failing edges', { ...failure, mode: 'production', thresholds: { local: 0.6, edge: 0.5 } }],
  ];
  const grid = [-1, 0, 0.1, 0.25, 0.4, 0.5, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 1, 2];

  it.each(sessions)('gives runRule counts at every point, missing outputs and unanswered samples included (%s)', (_, options) => {
    const table = sessionSamplesFromEvents(syntheticSessionEvents(options));
    const p = prepare(table);
    const lat = latencyColumns(table, { default: { latencyMs: 3, bandwidthKbps: 500 } });
    const tiers = new Uint8Array(table.n);
    let sawMissing = false;
    let sawUnanswered = false;
    for (const statistic of ['entropy', 'confidence', 'margin'] as ThresholdStatistic[]) {
      for (const edge of ['same', 0.55] as const) {
        const taus = [...grid].reverse().map((x) => tauOf(statistic, x));
        const all = bucketSweep(p, statistic, edge === 'same' ? 'same' : { tau: tauOf(statistic, edge) }, taus, lat);
        taus.forEach((tau, i) => {
          const ref = runRule(p, { statistic, tau: { local: tau, edge: edge === 'same' ? tau : tauOf(statistic, edge) } }, tiers, lat);
          const { latencySum, ...counts } = all[i];
          const { latencySum: refLatency, ...refCounts } = ref;
          expect(counts).toEqual(refCounts);
          expect(latencySum).toBeCloseTo(refLatency, 6);
          sawMissing ||= ref.missing.some((m) => m > 0);
          sawUnanswered ||= ref.unanswered > 0;
        });
      }
    }
    expect(sawMissing).toBe(options.mode === 'production');
    // Two devices, each failing often: some samples have no answer under some policies (no device answered them, or
    // none delivered its features).
    if (options.missFeatures) expect(sawUnanswered).toBe(true);
  });
});
