import type { PolicyEvaluation, ThresholdStatistic } from '@ddnn/contracts';
import { evaluatePolicy } from './evaluate';
import { sessionSamplesFromEvents } from './session-table';
import { sweep, thresholdGrid } from './sweep';
import { syntheticSessionEvents } from './synthetic';

const research = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 600, seed: 21, missScores: 0.03 }));
const links = { default: { latencyMs: 5, bandwidthKbps: 250 } };

describe('sweep', () => {
  it('runs 100 points over [0, 1] by default', () => {
    const r = sweep(research, 'entropy');
    expect(r.points).toHaveLength(100);
    expect(r.points[0].threshold).toBe(0);
    expect(r.points[99].threshold).toBe(1);
    expect(r.points.every((p) => p.evaluable)).toBe(true);
  });

  it('local exit rate is non-decreasing in T for entropy and non-increasing for confidence and margin', () => {
    const rates = (s: ThresholdStatistic) => sweep(research, s, 101).points.map((p) => p.localExitRate);
    const e = rates('entropy');
    for (let i = 1; i < e.length; i++) expect(e[i]).toBeGreaterThanOrEqual(e[i - 1]);
    expect(e[0]).toBe(0);
    expect(e[100]).toBeGreaterThan(0.9);
    for (const s of ['confidence', 'margin'] as const) {
      const r = rates(s);
      for (let i = 1; i < r.length; i++) expect(r[i]).toBeLessThanOrEqual(r[i - 1]);
      expect(r[0]).toBeGreaterThan(r[100]);
    }
  });

  it('bytes fall as more samples exit locally', () => {
    const pts = sweep(research, 'entropy', 21).points;
    for (let i = 1; i < pts.length; i++) expect(pts[i].bytesPerSample).toBeLessThanOrEqual(pts[i - 1].bytesPerSample);
  });

  it.each(['entropy', 'confidence', 'margin'] as const)('every %s point equals evaluatePolicy at that threshold', (statistic) => {
    for (const p of sweep(research, statistic, [0.05, 0.42, 0.77, 0.93], { linkModel: links }).points) {
      const r = evaluatePolicy(research, { kind: statistic, thresholds: { local: p.threshold } }, links) as PolicyEvaluation;
      expect(p.accuracy).toBe(r.accuracy);
      expect(p.localExitRate).toBe(r.localExitRate);
      expect(p.bytesPerSample).toBe(r.bytesPerSample);
      expect(p.exitRates).toEqual(Object.fromEntries(r.exits.map((e) => [e.tier, e.exitRate])));
      expect(p.meanLatencyMs).toBeCloseTo(r.latency.meanMs, 9);
    }
  });

  it('sweeps the edge threshold with the local one, or holds it fixed', () => {
    const edged = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 300, seed: 4, edges: ['e'] }));
    const same = sweep(edged, 'entropy', [0.7]).points[0];
    const fixed = sweep(edged, 'entropy', [0.7], { edgeThreshold: 0 }).points[0];
    expect(same.exitRates.edge).toBeGreaterThan(0);
    expect(fixed.exitRates.edge).toBe(0);
    const r = evaluatePolicy(edged, { kind: 'entropy', thresholds: { local: 0.7, edge: 0.7 } }) as PolicyEvaluation;
    expect(same.accuracy).toBe(r.accuracy);
    expect(same.bytesPerSample).toBe(r.bytesPerSample);
  });

  it('marks points a production session cannot evaluate', () => {
    const prod = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 600, seed: 21, missScores: 0.03, mode: 'production', thresholds: { local: 0.8 } }));
    const pts = sweep(prod, 'entropy', [0.5, 0.8, 0.9]).points;
    expect(pts.map((p) => p.evaluable)).toEqual([false, true, true]);
    expect(pts[0].accuracy).toBeNull();
    const full = sweep(research, 'entropy', [0.8, 0.9]).points;
    expect(pts.slice(1)).toEqual(full);
  });

  it('the sorted sweep and the per-point evaluation agree', () => {
    const prod = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 400, seed: 2, mode: 'production', missScores: 0.05, thresholds: { local: 0.6 } }));
    const edged = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 400, seed: 6, edges: ['a', 'b'], missFeatures: 0.05 }));
    const failure = { samples: 400, seed: 9, devices: 2, edges: ['a', 'b'], missScores: 0.4, missFeatures: 0.1, missEdges: 0.4 };
    const failing = sessionSamplesFromEvents(syntheticSessionEvents(failure));
    const failingProd = sessionSamplesFromEvents(syntheticSessionEvents({ ...failure, mode: 'production', thresholds: { local: 0.6, edge: 0.6 } }));
    const grid = [-0.5, ...Array.from({ length: 41 }, (_, i) => i / 40), 1.5];
    const cases = [
      { table: research, statistic: 'entropy' as const, options: {} },
      { table: research, statistic: 'margin' as const, options: {} },
      { table: prod, statistic: 'entropy' as const, options: {} },
      { table: prod, statistic: 'confidence' as const, options: {} },
      { table: edged, statistic: 'entropy' as const, options: { edgeThreshold: 0.6 } },
      { table: edged, statistic: 'entropy' as const, options: {} },
      { table: edged, statistic: 'confidence' as const, options: {} },
      { table: failing, statistic: 'entropy' as const, options: {} },
      { table: failing, statistic: 'margin' as const, options: { edgeThreshold: 0.3 } },
      { table: failingProd, statistic: 'entropy' as const, options: {} },
    ];
    for (const { table, statistic, options } of cases) {
      const fast = sweep(table, statistic, grid, { ...options, linkModel: links }).points;
      const slow = sweep(table, statistic, grid, { ...options, linkModel: links, method: 'linear' }).points;
      fast.forEach((f, i) => {
        const { meanLatencyMs, ...rest } = f;
        const { meanLatencyMs: slowLatency, ...slowRest } = slow[i];
        expect(rest).toEqual(slowRest);
        expect(meanLatencyMs).toBeCloseTo(slowLatency, 9);
      });
      expect(new Set(fast.map((f) => f.localExitRate)).size).toBeGreaterThan(5);
    }
  });

  it('rejects bad points', () => {
    expect(() => thresholdGrid(1)).toThrow(/integer >= 2/);
    expect(() => sweep(research, 'entropy', [0.5, NaN])).toThrow(/finite/);
  });
});
