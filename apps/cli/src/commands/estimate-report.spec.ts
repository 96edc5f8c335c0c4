import type { EvalRun } from '@ddnn/ddnn';
import { prng as rng } from '@ddnn/policies';
import { estimateAgainstTruth } from './estimate-report';

/**
 * A run whose local exit answers every sample at the same confidence (0.9): right 95% of the time when most of
 * its six devices agree with it, 50% when they dispute it. Confidence alone cannot tell the two apart.
 */
function run(samples: number, disputed: number, seed: number): EvalRun {
  const r = rng(seed);
  const labels = new Int32Array(samples);
  const local: Float32Array[] = [];
  const devicePredictions = Array.from({ length: 6 }, () => new Int32Array(samples));
  for (let i = 0; i < samples; i++) {
    const label = Math.floor(r() * 3);
    const agree = r() >= disputed;
    const prediction = r() < (agree ? 0.95 : 0.5) ? label : (label + 1) % 3;
    labels[i] = label;
    const p = new Float32Array([0.05, 0.05, 0.05]);
    p[prediction] = 0.9;
    local.push(p);
    devicePredictions.forEach((d, v) => (d[i] = v < (agree ? 4 : 1) ? prediction : (prediction + 2) % 3));
  }
  return {
    labels, classes: 3, devices: [0, 1, 2, 3, 4, 5], failed: [], devicePredictions, local, edge: null, cloud: local,
    senders: new Uint8Array(samples).fill(6), featureBytes: 1, scoreBytes: 12, rawBytes: new Float64Array(samples),
  };
}

describe('ddnn estimate', () => {
  it('tracks a target whose devices dispute more samples than the reference did, at the same confidence', () => {
    const report = estimateAgainstTruth([run(3000, 0.1, 1)], run(1000, 0.4, 2), 0.95);
    expect(report.referenceSamples).toBe(3000);
    expect(report.overall.samples).toBe(1000);
    expect(report.exits.local?.samples).toBe(1000);
    // The truth is about 0.6 x 95% + 0.4 x 50% = 77%; the reference's pooled accuracy (90.5%) would miss it by 13.
    expect(report.overall.truth!).toBeGreaterThan(0.73);
    expect(report.overall.truth!).toBeLessThan(0.81);
    // Over 20 seeded pairs of runs: small errors, and the 95% interval holds the truth about as often as it says.
    let covered = 0;
    let error = 0;
    for (let s = 0; s < 20; s++) {
      const line = estimateAgainstTruth([run(3000, 0.1, 10 + 2 * s)], run(1000, 0.4, 11 + 2 * s), 0.95).overall;
      error += line.errorPoints! / 20;
      if (line.low! <= line.truth! && line.truth! <= line.high!) covered++;
    }
    expect(error).toBeLessThan(2.5);
    expect(covered).toBeGreaterThanOrEqual(17);
  });
});
