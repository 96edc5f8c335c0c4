/**
 * Confidence-based performance estimation (CBPE, as NannyML does it): calibrate a model's max-probability on a
 * reference run that has labels, then estimate the accuracy of unlabelled samples as the mean calibrated
 * confidence. Calibration is histogram binning made monotone by isotonic regression (pool adjacent violators)
 * over the bins, so sparse bins borrow from their neighbours and a higher confidence never maps lower.
 * It holds while a shift leaves P(correct | confidence) as it was in the reference: calibrate on labelled data
 * the model did not train on (a model is over-confident on its training samples), and per stratum (strata.ts).
 */
import { CONFIDENCE_BINS, type SparseHistogram } from './histogram';
import { parseStratifiedBin, stratumFallbacks } from './strata';

export interface Calibration {
  /** Calibrated P(correct) per confidence bin; for bins the reference never saw, the bin's own confidence. */
  value: number[];
  /** Reference samples behind each bin's value (the pooled block's count; 0 where uncalibrated). */
  support: number[];
  /** Block id of each bin: bins of one pooled block share one estimate (their errors are correlated). */
  block: number[];
  /** Labelled reference samples in all. */
  samples: number;
}

/**
 * Fits a calibration from the reference's labelled counts and correct counts per confidence bin. Adjacent bins
 * are first grouped until each group holds `minSupport` reference samples (so one lone sample never decides a
 * bin that production fills), then the groups are pooled where they violate the order.
 */
export function fitCalibration(labelled: number[], correct: number[], minSupport = defaultSupport(labelled)): Calibration {
  const bins = labelled.length;
  if (correct.length !== bins) throw new Error('calibration needs labelled and correct counts over the same bins');
  const groups: { first: number; last: number; n: number; k: number }[] = [];
  let open: { first: number; last: number; n: number; k: number } | null = null;
  for (let b = 0; b < bins; b++) {
    const n = labelled[b];
    if (!(n > 0)) continue;
    const k = Math.min(Math.max(correct[b], 0), n);
    if (open) Object.assign(open, { last: b, n: open.n + n, k: open.k + k });
    else open = { first: b, last: b, n, k };
    if (open.n >= minSupport) {
      groups.push(open);
      open = null;
    }
  }
  if (open) {
    const prev = groups[groups.length - 1];
    if (prev) Object.assign(prev, { last: open.last, n: prev.n + open.n, k: prev.k + open.k });
    else groups.push(open);
  }
  // Pool adjacent violators, weighted by the groups' counts.
  const blocks: { first: number; last: number; n: number; k: number }[] = [];
  for (const g of groups) {
    blocks.push({ ...g });
    while (blocks.length > 1) {
      const y = blocks[blocks.length - 1];
      const x = blocks[blocks.length - 2];
      if (x.k / x.n <= y.k / y.n) break;
      blocks.splice(blocks.length - 2, 2, { first: x.first, last: y.last, n: x.n + y.n, k: x.k + y.k });
    }
  }
  const value = Array.from({ length: bins }, (_, b) => (b + 0.5) / bins);
  const support = new Array<number>(bins).fill(0);
  const block = new Array<number>(bins).fill(-1);
  blocks.forEach((bl, j) => {
    // Bins between two fitted blocks take the lower block's value (keeps the map monotone).
    const next = blocks[j + 1];
    const end = next ? next.first - 1 : bl.last;
    for (let b = bl.first; b <= end; b++) {
      value[b] = bl.k / bl.n;
      support[b] = bl.n;
      block[b] = j;
    }
  });
  if (blocks.length) {
    // Below the first fitted bin: the first block's value too (never above the bin's raw confidence though).
    for (let b = 0; b < blocks[0].first; b++) value[b] = Math.min(value[b], blocks[0].k / blocks[0].n);
    // Above the last fitted bin the reference saw nothing: keep the raw confidence, at least the last value.
    const last = blocks[blocks.length - 1];
    for (let b = last.last + 1; b < bins; b++) value[b] = Math.max(value[b], last.k / last.n);
  }
  return { value, support, block, samples: blocks.reduce((s, b) => s + b.n, 0) };
}

/** Reference samples per calibration group: about 40 groups, at least 10 samples each. */
function defaultSupport(labelled: number[]): number {
  const total = labelled.reduce((s, n) => s + (n > 0 ? n : 0), 0);
  return Math.max(10, Math.ceil(total / 40));
}

export interface AccuracyEstimate {
  value: number;
  /** 95% interval: the sampling spread of the realised accuracy plus the calibration's own error. */
  low: number;
  high: number;
  /** Samples estimated. */
  n: number;
}

/** One group of samples (e.g. the samples one exit answered) and the calibration of its confidences. */
export interface EstimationPart {
  /** Samples per confidence bin. */
  counts: number[];
  calibration: Calibration;
}

/**
 * Expected accuracy over the parts' samples, sum of calibrated confidences over their count, with its
 * uncertainty; null when there is nothing to estimate.
 */
export function estimateAccuracy(parts: EstimationPart[]): AccuracyEstimate | null {
  const n = parts.reduce((s, p) => s + p.counts.reduce((a, c) => a + c, 0), 0);
  if (n <= 0) return null;
  let expected = 0;
  let samplingVar = 0;
  let calibrationVar = 0;
  parts.forEach((part, pi) => {
    const { value, support, block } = part.calibration;
    const blockWeight = new Map<string, { w: number; v: number; support: number }>();
    part.counts.forEach((c, b) => {
      if (!(c > 0)) return;
      const v = value[b];
      expected += c * v;
      samplingVar += c * v * (1 - v);
      // Bins without reference support: their raw confidence is a guess, counted at the widest spread.
      const key = block[b] >= 0 ? `${pi}:${block[b]}` : `${pi}:raw${b}`;
      const entry = blockWeight.get(key) ?? { w: 0, v, support: support[b] };
      entry.w += c / n;
      blockWeight.set(key, entry);
    });
    for (const { w, v, support: m } of blockWeight.values()) {
      // (k+1)/(m+2) keeps a block that was all right (or all wrong) from claiming zero error.
      const p = m > 0 ? (v * m + 1) / (m + 2) : 0.5;
      calibrationVar += (w * w * p * (1 - p)) / (m > 0 ? m : 1);
    }
  });
  const value = expected / n;
  const sd = Math.sqrt(samplingVar / (n * n) + calibrationVar);
  return { value, low: Math.max(0, value - 1.96 * sd), high: Math.min(1, value + 1.96 * sd), n };
}

/**
 * One exit's calibration per stratum (see strata.ts), keyed by stratum (`<class>:<agree>`), by class alone
 * (`<class>`) and pooled (''): a stratum the reference never saw borrows its class's, then the pooled one.
 */
export type StratifiedCalibration = Record<string, Calibration>;

/** Dense per-level counts of a stratified histogram (keys of strata.ts); malformed keys and counts are dropped. */
function levelHistograms(h: SparseHistogram | undefined, bins: number, levels: (stratum: string) => string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [key, v] of Object.entries(h ?? {})) {
    const parsed = parseStratifiedBin(key);
    if (!parsed || parsed.bin >= bins || !(Number.isFinite(v) && v > 0)) continue;
    for (const level of levels(parsed.stratum)) {
      let dense = out.get(level);
      if (!dense) out.set(level, (dense = new Array<number>(bins).fill(0)));
      dense[parsed.bin] += v;
    }
  }
  return out;
}

/** Fits an exit's stratified calibration from the reference's labelled and correct stratified histograms. */
export function fitStratifiedCalibration(labelled: SparseHistogram | undefined, correct: SparseHistogram | undefined, bins = CONFIDENCE_BINS): StratifiedCalibration {
  const n = levelHistograms(labelled, bins, stratumFallbacks);
  const k = levelHistograms(correct, bins, stratumFallbacks);
  const out: StratifiedCalibration = {};
  for (const [level, counts] of n) out[level] = fitCalibration(counts, k.get(level) ?? new Array<number>(bins).fill(0));
  return out;
}

/** A calibration fitted on nothing: each bin's own confidence, at the widest uncertainty. */
export function uncalibrated(bins = CONFIDENCE_BINS): Calibration {
  return fitCalibration(new Array<number>(bins).fill(0), new Array<number>(bins).fill(0));
}

/**
 * An exit's target samples (a stratified histogram) as estimation parts: each stratum's counts under the finest
 * calibration the reference has for it. Strata that share a calibration share a part, so that the calibration's
 * error is counted once for all of them.
 */
export function stratifiedParts(counts: SparseHistogram | undefined, calibration: StratifiedCalibration | undefined, bins = CONFIDENCE_BINS): EstimationPart[] {
  const parts = new Map<string, EstimationPart>();
  for (const [stratum, dense] of levelHistograms(counts, bins, (s) => [s])) {
    const level = stratumFallbacks(stratum).find((l) => calibration?.[l]);
    const key = level ?? '\u0000none';
    const part = parts.get(key) ?? { counts: new Array<number>(bins).fill(0), calibration: (level !== undefined && calibration?.[level]) || uncalibrated(bins) };
    parts.set(key, part);
    dense.forEach((c, b) => (part.counts[b] += c));
  }
  return [...parts.values()];
}
