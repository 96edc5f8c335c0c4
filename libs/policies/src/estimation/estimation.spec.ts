import { estimateAccuracy, fitCalibration, fitStratifiedCalibration, type StratifiedCalibration } from './cbpe';
import { coarsen, populationStabilityIndex } from './drift';
import { CONFIDENCE_BINS, histogramQuantile, mergeHistograms, latencyBin, latencyBinRange, unitBin, unitBinRange, type SparseHistogram } from './histogram';
import { devicesAgree, parseStratifiedBin, stratifiedBin, stratumKey } from './strata';
import { estimateStratified, StratifiedEstimator } from './stratified-estimate';
import { prng as rng } from '../synthetic';

/** A model whose confidences are over-confident: P(correct | c) = c^2. */
function draw(n: number, seed: number, skew: number): { counts: number[]; correct: number[]; accuracy: number } {
  const r = rng(seed);
  const counts = new Array<number>(CONFIDENCE_BINS).fill(0);
  const correct = new Array<number>(CONFIDENCE_BINS).fill(0);
  let right = 0;
  for (let i = 0; i < n; i++) {
    const c = 0.34 + 0.66 * r() ** skew;
    const ok = r() < c * c ? 1 : 0;
    const b = unitBin(c, CONFIDENCE_BINS);
    counts[b]++;
    correct[b] += ok;
    right += ok;
  }
  return { counts, correct, accuracy: right / n };
}

describe('confidence-based accuracy estimation', () => {
  it('estimates the accuracy of a shifted, unlabelled sample from a calibration on a labelled reference', () => {
    const reference = draw(4000, 1, 0.5);
    const calibration = fitCalibration(reference.counts, reference.correct);
    // The production data are less confident than the reference: raw confidence would overestimate.
    const production = draw(3000, 2, 1.5);
    const est = estimateAccuracy([{ counts: production.counts, calibration }])!;
    const rawConfidence = production.counts.reduce((s, c, b) => s + c * (b + 0.5) / CONFIDENCE_BINS, 0) / 3000;
    expect(Math.abs(est.value - production.accuracy)).toBeLessThan(0.02);
    expect(rawConfidence - production.accuracy).toBeGreaterThan(0.1);
    expect(est.low).toBeLessThanOrEqual(production.accuracy);
    expect(est.high).toBeGreaterThanOrEqual(production.accuracy);
    expect(est.n).toBe(3000);
  });

  it('calibrates monotonically and pools bins that violate the order', () => {
    const labelled = [0, 10, 10, 0, 10];
    const correct = [0, 6, 4, 0, 9];
    const cal = fitCalibration(labelled, correct);
    expect(cal.value[1]).toBeCloseTo(0.5);
    expect(cal.value[2]).toBeCloseTo(0.5);
    expect(cal.block[1]).toBe(cal.block[2]);
    expect(cal.value[4]).toBeCloseTo(0.9);
    for (let b = 1; b < 5; b++) expect(cal.value[b]).toBeGreaterThanOrEqual(cal.value[b - 1]);
    expect(cal.samples).toBe(30);
  });

  it('widens the interval for a small reference and for bins the reference never saw', () => {
    const big = draw(5000, 3, 1);
    const small = draw(100, 3, 1);
    const target = draw(2000, 4, 1).counts;
    const wide = estimateAccuracy([{ counts: target, calibration: fitCalibration(small.counts, small.correct) }])!;
    const narrow = estimateAccuracy([{ counts: target, calibration: fitCalibration(big.counts, big.correct) }])!;
    expect(wide.high - wide.low).toBeGreaterThan(narrow.high - narrow.low);
    const none = estimateAccuracy([{ counts: target, calibration: fitCalibration(new Array(CONFIDENCE_BINS).fill(0), new Array(CONFIDENCE_BINS).fill(0)) }])!;
    expect(none.high - none.low).toBeGreaterThan(wide.high - wide.low);
  });

  it('combines exits, each with its own calibration, weighted by their samples', () => {
    const a = fitCalibration([0, 100], [0, 90]);
    const b = fitCalibration([100, 0], [50, 0]);
    const est = estimateAccuracy([
      { counts: [0, 30], calibration: a },
      { counts: [10, 0], calibration: b },
    ])!;
    expect(est.value).toBeCloseTo((30 * 0.9 + 10 * 0.5) / 40);
    expect(estimateAccuracy([{ counts: [0, 0], calibration: a }])).toBeNull();
  });
});

/**
 * A model over three classes whose P(correct | confidence) differs by predicted class and by whether the devices
 * agreed: known to the test, unknown to the estimator. `mix` shifts which strata and confidences a draw holds.
 */
function stratifiedDraw(n: number, r: () => number, mix: { disputed: number; class2: number; skew: number }) {
  const counts: SparseHistogram = {};
  const correct: SparseHistogram = {};
  let right = 0;
  for (let i = 0; i < n; i++) {
    const prediction = r() < mix.class2 ? 2 : r() < 0.5 ? 0 : 1;
    const agree = r() >= mix.disputed;
    const c = 0.34 + 0.66 * r() ** mix.skew;
    // Disputed samples are right far less often at the same confidence; class 2 is over-confident.
    const p = (agree ? 0.5 + 0.5 * c : 0.15 + 0.5 * c) * (prediction === 2 ? 0.8 : 1);
    const key = stratifiedBin(stratumKey(prediction, agree), unitBin(c, CONFIDENCE_BINS));
    counts[key] = (counts[key] ?? 0) + 1;
    if (r() < p) {
      correct[key] = (correct[key] ?? 0) + 1;
      right++;
    }
  }
  return { counts, correct, accuracy: right / n };
}

describe('stratified estimation on a shifted target, with the truth known', () => {
  const REFERENCE = { disputed: 0.1, class2: 0.2, skew: 0.7 };
  // The target: three times as many disputed samples, more of the over-confident class, less confident overall.
  const TARGET = { disputed: 0.3, class2: 0.4, skew: 1.3 };

  it('covers the realised accuracy at about the nominal 95% over many draws, and misses it by little', () => {
    const r = rng(11);
    const draws = 400;
    let covered = 0;
    const errors: number[] = [];
    let pooledErrors = 0;
    for (let d = 0; d < draws; d++) {
      const reference = stratifiedDraw(2000, r, REFERENCE);
      const target = stratifiedDraw(300, r, TARGET);
      const est = estimateStratified([{ counts: target.counts, calibration: fitStratifiedCalibration(reference.counts, reference.correct) }]).estimate!;
      if (est.low <= target.accuracy && target.accuracy <= est.high) covered++;
      errors.push(est.value - target.accuracy);
      // The same reference calibrated without strata (every key's bin alone) misses the shift.
      const bare = (h: SparseHistogram) => mergeHistograms(Object.entries(h).map(([k, v]) => ({ [k.split(':')[2]]: v })));
      const pooled = estimateStratified([{ counts: bare(target.counts), calibration: fitStratifiedCalibration(bare(reference.counts), bare(reference.correct)) }]);
      pooledErrors += pooled.estimate!.value - target.accuracy;
    }
    const coverage = covered / draws;
    const bias = errors.reduce((a, b) => a + b, 0) / draws;
    const rms = Math.sqrt(errors.reduce((a, b) => a + b * b, 0) / draws);
    // Nominal 95%: 400 draws put a calibrated interval within about +-2.2 points of it (2 standard errors) and a
    // few points more for the interval's approximations; too narrow or needlessly wide both fail.
    const p95 = errors.map(Math.abs).sort((a, b) => a - b)[Math.floor(0.95 * draws)];
    // Nominal 95%: 400 draws put a calibrated interval within about +-2.2 points of it (2 standard errors), and
    // an interval that ignored the target's own spread would cover far less; a needlessly wide one, nearly all.
    expect(coverage).toBeGreaterThan(0.91);
    expect(coverage).toBeLessThan(0.99);
    // 300 target samples alone spread the realised accuracy by ~2.6 points: the estimate adds little to that
    // (the binning of small strata leaves under a point of bias).
    expect(Math.abs(bias)).toBeLessThan(0.015);
    expect(rms).toBeLessThan(0.035);
    expect(p95).toBeLessThan(0.065);
    // The same reference without strata misses the target's shift by about 9 points.
    expect(pooledErrors / draws).toBeGreaterThan(0.05);
  });

  it('borrows the class, then the pooled calibration for a stratum the reference never saw', () => {
    const calibration = fitStratifiedCalibration({ '0:1:40': 100, '1:1:40': 100 }, { '0:1:40': 90, '1:1:40': 50 });
    const estimate = (counts: SparseHistogram) => estimateStratified([{ counts, calibration }]).estimate!;
    expect(estimate({ '0:0:40': 10 }).value).toBeCloseTo(0.9);
    expect(estimate({ '2:1:40': 10 }).value).toBeCloseTo(0.7);
    // Two strata that fall back to one calibration share its error: as wide as one stratum holding both.
    const shared = estimate({ '2:1:40': 10, '2:0:40': 5 });
    const one = estimate({ '2:1:40': 15 });
    for (const k of ['value', 'low', 'high'] as const) expect(shared[k]).toBeCloseTo(one[k], 12);
    // Without a calibration (an exit the reference never answered at): the raw confidence, at the widest spread.
    for (const none of [{}, undefined]) {
      const raw = estimateStratified([{ counts: { '0:1:40': 15 }, calibration: none }]).estimate!;
      expect(raw.value).toBeCloseTo(40.5 / CONFIDENCE_BINS);
      expect(raw.high - raw.low).toBeGreaterThan(one.high - one.low);
    }
  });

  it('reads a stored histogram text as its parsed object, whatever its keys and counts', () => {
    const scan = (texts: (string | null)[][], calibrations: (StratifiedCalibration | undefined)[]) => {
      const estimator = new StratifiedEstimator(calibrations);
      texts.forEach((ts, exit) => ts.forEach((t) => estimator.addText(exit, t)));
      return estimator.finish();
    };
    const r = rng(5);
    const reference = stratifiedDraw(2000, r, REFERENCE);
    const calibration = fitStratifiedCalibration(reference.counts, reference.correct);
    const target: SparseHistogram = {
      ...stratifiedDraw(300, r, TARGET).counts,
      // Bare bins, a class the reference never saw, a class named with a leading zero, malformed keys and counts.
      '41': 3, '7:1:30': 2, '01:1:40': 4, '1:2:40': 5, '1:1:50': 6, 'x': 7, '1:1:': 8, ':1:3': 1, '1:1:3:4': 1, '9:0:43': 0,
    };
    const fractions: SparseHistogram = { ...target, '9:1:45': 2.5, '9:0:44': -1 };
    for (const h of [target, fractions]) {
      const parsed = estimateStratified([{ counts: h, calibration }]);
      const texts = [JSON.stringify(h), JSON.stringify(h, null, 2), JSON.stringify(h).replace('"41"', '"\\u0034\\u0031"')];
      for (const text of texts) {
        const scanned = scan([[text]], [calibration]);
        expect(scanned.samples).toBe(parsed.samples);
        for (const k of ['value', 'low', 'high'] as const) expect(scanned.estimate![k]).toBeCloseTo(parsed.estimate![k], 12);
      }
    }
    expect(estimateStratified([{ counts: fractions, calibration }]).samples).toBe(300 + 3 + 2 + 4 + 2.5);
    // Texts of several buckets and exits sum as their merged histograms do; an empty or null one adds nothing.
    const a = stratifiedDraw(100, r, TARGET).counts;
    const b = stratifiedDraw(100, r, TARGET).counts;
    const merged = estimateStratified([{ counts: mergeHistograms([a, b]), calibration }, { counts: a, calibration: undefined }]).estimate!;
    const split = scan([[JSON.stringify(a), '{}', null, JSON.stringify(b)], [JSON.stringify(a)]], [calibration, undefined]).estimate!;
    for (const k of ['value', 'low', 'high'] as const) expect(split[k]).toBeCloseTo(merged[k], 12);
  });

  it('estimates bare bins under the pooled calibration exactly as dense counts', () => {
    const reference = draw(3000, 8, 0.7);
    const target = draw(500, 9, 1.2);
    const sparse = (counts: number[]) => Object.fromEntries(counts.flatMap((c, b) => (c ? [[String(b), c]] : [])));
    const stratified = estimateStratified([{ counts: sparse(target.counts), calibration: fitStratifiedCalibration(sparse(reference.counts), sparse(reference.correct)) }]).estimate!;
    const dense = estimateAccuracy([{ counts: target.counts, calibration: fitCalibration(reference.counts, reference.correct) }])!;
    for (const k of ['value', 'low', 'high', 'n'] as const) expect(stratified[k]).toBeCloseTo(dense[k], 12);
  });

  it('keys confidences by predicted class and device agreement; bare bins stay readable', () => {
    expect(devicesAgree([1, 1, 2, 0], 1)).toBe(true);
    expect(devicesAgree([1, 2, 2, 0], 1)).toBe(false);
    expect(devicesAgree([], 1)).toBe(false);
    expect(parseStratifiedBin(stratifiedBin(stratumKey(2, false), 37))).toEqual({ stratum: '2:0', bin: 37 });
    expect(parseStratifiedBin('12')).toEqual({ stratum: '', bin: 12 });
    for (const bad of ['', 'x', '1:2:3', '1:1:', ':1:3', '1:1:3:4']) expect(parseStratifiedBin(bad)).toBeNull();
  });
});

describe('histograms and drift', () => {
  it('reads quantiles back within a bin', () => {
    const h: SparseHistogram = {};
    const add = (x: number) => (h[unitBin(x, 100)] = (h[unitBin(x, 100)] ?? 0) + 1);
    for (let i = 0; i < 1000; i++) add(i / 1000);
    expect(histogramQuantile(h, 0.5, 100, (b) => unitBinRange(b, 100))!).toBeCloseTo(0.5, 2);
    expect(histogramQuantile(h, 0.95, 100, (b) => unitBinRange(b, 100))!).toBeCloseTo(0.95, 2);
    expect(histogramQuantile({}, 0.5, 100, (b) => unitBinRange(b, 100))).toBeNull();
  });

  it('bins latencies on a log scale within a few percent', () => {
    for (const ms of [1.5, 12, 250, 4000, 60_000]) {
      const [lo, hi] = latencyBinRange(latencyBin(ms));
      expect(ms).toBeGreaterThanOrEqual(lo * 0.999);
      expect(ms).toBeLessThan(hi * 1.001);
      expect(hi / lo).toBeLessThan(1.05);
    }
    expect(latencyBin(0)).toBe(0);
    expect(latencyBin(Number.NaN)).toBe(0);
  });

  it('reports no drift for the same distribution and a large one for a moved distribution', () => {
    const ref = coarsen(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(populationStabilityIndex(ref, ref)).toBeCloseTo(0);
    const moved = coarsen(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(populationStabilityIndex(ref, moved)!).toBeGreaterThan(0.25);
    expect(populationStabilityIndex(ref, new Array(10).fill(0))).toBeNull();
  });
});
