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

/** Calibration variance a block adds per squared sample weight, from its value and reference support. */
export function blockSpread(value: number, support: number): number {
  // (k+1)/(m+2) keeps a block that was all right (or all wrong) from claiming zero error; a bin without
  // reference support is a guess, counted at the widest spread.
  const p = support > 0 ? (value * support + 1) / (support + 2) : 0.5;
  return (p * (1 - p)) / (support > 0 ? support : 1);
}

/**
 * Running sums of an estimate: samples, calibrated confidences and their sampling spread, and the samples under
 * each calibration block of the group open (an exit, a part). A block's calibration error is shared by all its
 * samples, so it counts once with the squared share of the samples it covers.
 */
export class EstimateSums {
  private n = 0;
  private expected = 0;
  private samplingVar = 0;
  /** Sum over closed groups' blocks of (samples in block)^2 * spread: the calibration variance times n^2. */
  private blockVar = 0;
  /** Samples per block of the open group; all zero between groups. */
  private weight = new Float64Array(0);
  private touched: number[] = [];
  private spread: Float64Array = new Float64Array(0);

  /** Starts a group whose blocks are the slots of `spread`. */
  open(spread: Float64Array): void {
    this.spread = spread;
    if (this.weight.length < spread.length) this.weight = new Float64Array(spread.length);
  }

  /** `count` samples of calibrated value `value` in block `slot` of the open group. */
  add(count: number, value: number, slot: number): void {
    this.n += count;
    this.expected += count * value;
    this.samplingVar += count * value * (1 - value);
    if (this.weight[slot] === 0) this.touched.push(slot);
    this.weight[slot] += count;
  }

  close(): void {
    for (const s of this.touched) {
      this.blockVar += this.weight[s] * this.weight[s] * this.spread[s];
      this.weight[s] = 0;
    }
    this.touched.length = 0;
  }

  get samples(): number {
    return this.n;
  }

  /** Forgets everything added (the open group too), keeping the buffers. */
  reset(): void {
    for (const s of this.touched) this.weight[s] = 0;
    this.touched.length = 0;
    this.n = this.expected = this.samplingVar = this.blockVar = 0;
  }

  /** The estimate over everything added (null when nothing was); every group must be closed. */
  result(): AccuracyEstimate | null {
    const n = this.n;
    if (!(n > 0)) return null;
    const value = this.expected / n;
    const sd = Math.sqrt((this.samplingVar + this.blockVar) / (n * n));
    return { value, low: Math.max(0, value - 1.96 * sd), high: Math.min(1, value + 1.96 * sd), n };
  }
}

/** Slots of a calibration's bins (its pooled blocks, then one per bin no block covers) and each slot's spread. */
export function calibrationSlots(calibration: Calibration): { slot: Int32Array; spread: Float64Array } {
  const { value, support, block } = calibration;
  const bins = value.length;
  const blocks = block.reduce((m, b) => Math.max(m, b + 1), 0);
  const slot = new Int32Array(bins);
  const spread = new Float64Array(blocks + bins);
  for (let b = 0; b < bins; b++) {
    slot[b] = block[b] >= 0 ? block[b] : blocks + b;
    spread[slot[b]] = blockSpread(value[b], support[b]);
  }
  return { slot, spread };
}

/**
 * Expected accuracy over the parts' samples, sum of calibrated confidences over their count, with its
 * uncertainty; null when there is nothing to estimate.
 */
export function estimateAccuracy(parts: EstimationPart[]): AccuracyEstimate | null {
  const sums = new EstimateSums();
  for (const part of parts) {
    const { slot, spread } = calibrationSlots(part.calibration);
    sums.open(spread);
    part.counts.forEach((c, b) => {
      if (c > 0) sums.add(c, part.calibration.value[b], slot[b]);
    });
    sums.close();
  }
  return sums.result();
}

/**
 * One exit's calibration per stratum (see strata.ts), keyed by stratum (`<class>:<agree>`), by class alone
 * (`<class>`) and pooled (''): a stratum the reference never saw borrows its class's, then the pooled one.
 */
export type StratifiedCalibration = Record<string, Calibration>;

/**
 * Dense counts of a stratified histogram (keys of strata.ts) per level a stratum counts toward (itself, its class,
 * the pooled exit); malformed keys and counts are dropped.
 */
function levelHistograms(h: SparseHistogram | undefined, bins: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [key, v] of Object.entries(h ?? {})) {
    const parsed = parseStratifiedBin(key);
    if (!parsed || parsed.bin >= bins || !(Number.isFinite(v) && v > 0)) continue;
    for (const level of stratumFallbacks(parsed.stratum)) {
      let dense = out.get(level);
      if (!dense) out.set(level, (dense = new Array<number>(bins).fill(0)));
      dense[parsed.bin] += v;
    }
  }
  return out;
}

/** Fits an exit's stratified calibration from the reference's labelled and correct stratified histograms. */
export function fitStratifiedCalibration(labelled: SparseHistogram | undefined, correct: SparseHistogram | undefined, bins = CONFIDENCE_BINS): StratifiedCalibration {
  const n = levelHistograms(labelled, bins);
  const k = levelHistograms(correct, bins);
  const out: StratifiedCalibration = {};
  for (const [level, counts] of n) out[level] = fitCalibration(counts, k.get(level) ?? new Array<number>(bins).fill(0));
  return out;
}

/** A calibration fitted on nothing: each bin's own confidence, at the widest uncertainty. */
export function uncalibrated(bins = CONFIDENCE_BINS): Calibration {
  return fitCalibration(new Array<number>(bins).fill(0), new Array<number>(bins).fill(0));
}
