/**
 * The stratified accuracy estimate of target histograms (keys of strata.ts) in one pass over their keys, from the
 * stored JSON text or from parsed objects. A 7-day chart at one-minute steps estimates 10,080 cells of about 100
 * keys each: expanding each stratum into dense per-bin arrays and JSON-parsing every histogram cost ~0.5 s of CPU
 * apiece, where this maps a key to its calibrated value and block by arithmetic on its digits.
 */
import { calibrationSlots, EstimateSums, uncalibrated, type AccuracyEstimate, type Calibration, type StratifiedCalibration } from './cbpe';
import { CONFIDENCE_BINS, type SparseHistogram } from './histogram';
import { parseStratifiedBin, stratumFallbacks } from './strata';

/**
 * A stratified calibration laid out for lookups: level (a stratum, a class, the pooled exit or none) by array
 * index, and per (level, bin) the calibrated value and the block its error belongs to.
 */
interface CompiledCalibration {
  readonly bins: number;
  /** Classes 0..classLimit-1 resolve their strata through `stratumLevel`; others by name. */
  readonly classLimit: number;
  /** Level of stratum `<class>:<agree>` at `class * 2 + agree`. */
  readonly stratumLevel: Int32Array;
  /** Level of a bare bin and of a class the reference never saw: the pooled exit's, or none. */
  readonly pooledLevel: number;
  /** Calibrated value at level * bins + bin. */
  readonly value: Float64Array;
  /** Block (slot of `spread`) at level * bins + bin: a block's samples share one calibration error. */
  readonly slot: Int32Array;
  /** Calibration variance a block adds per squared sample weight. */
  readonly spread: Float64Array;
  readonly levelOf: (stratum: string) => number;
}

/** Classes resolved by array index; a reference naming more (never a real model) resolves the rest by name. */
const MAX_INDEXED_CLASSES = 4096;
/** Strata resolved by name that are remembered (a hostile key set cannot grow this without bound). */
const MAX_NAMED_STRATA = 10_000;

const compiled = new WeakMap<StratifiedCalibration, CompiledCalibration>();
const uncalibratedByBins = new Map<number, CompiledCalibration>();

/** The lookup form of an exit's stratified calibration (built once per calibration); none: every bin raw. */
function compileCalibration(calibration: StratifiedCalibration | undefined, bins = CONFIDENCE_BINS): CompiledCalibration {
  if (!calibration) {
    let c = uncalibratedByBins.get(bins);
    if (!c) uncalibratedByBins.set(bins, (c = compile({}, bins)));
    return c;
  }
  let c = compiled.get(calibration);
  if (!c || c.bins !== bins) compiled.set(calibration, (c = compile(calibration, bins)));
  return c;
}

function compile(calibration: StratifiedCalibration, bins: number): CompiledCalibration {
  const names = Object.keys(calibration).filter((k) => calibration[k]);
  const levels: Calibration[] = [...names.map((k) => calibration[k]), uncalibrated(bins)];
  const index = new Map(names.map((k, i) => [k, i]));
  const none = levels.length - 1;
  const byName = (stratum: string) => {
    for (const l of stratumFallbacks(stratum)) {
      const level = index.get(l);
      if (level !== undefined) return level;
    }
    return none;
  };
  let classLimit = 0;
  for (const k of names) if (/^(0|[1-9]\d{0,5})(:[01])?$/.test(k)) classLimit = Math.max(classLimit, Number(k.split(':')[0]) + 1);
  classLimit = Math.min(classLimit, MAX_INDEXED_CLASSES);
  const stratumLevel = new Int32Array(classLimit * 2);
  for (let c = 0; c < classLimit; c++) for (let a = 0; a < 2; a++) stratumLevel[c * 2 + a] = byName(`${c}:${a}`);
  const value = new Float64Array(levels.length * bins);
  const slot = new Int32Array(levels.length * bins);
  const spread: number[] = [];
  levels.forEach((cal, l) => {
    const own = calibrationSlots(cal);
    const base = spread.length;
    for (let b = 0; b < bins; b++) {
      value[l * bins + b] = cal.value[b];
      slot[l * bins + b] = base + own.slot[b];
    }
    spread.push(...own.spread);
  });
  const named = new Map<string, number>();
  const levelOf = (stratum: string) => {
    let l = named.get(stratum);
    if (l === undefined) {
      l = byName(stratum);
      if (named.size < MAX_NAMED_STRATA) named.set(stratum, l);
    }
    return l;
  };
  return { bins, classLimit, stratumLevel, pooledLevel: byName(''), value, slot, spread: Float64Array.from(spread), levelOf };
}

/**
 * Adds one sample count at (level * bins + bin) index `k` of `t`, whose blocks start at slot `base` of the open
 * group (counts that are not positive and finite are dropped).
 */
function addCount(sums: EstimateSums, t: CompiledCalibration, base: number, k: number, count: number): void {
  if (k >= 0 && Number.isFinite(count) && count > 0) sums.add(count, t.value[k], base + t.slot[k]);
}

/** Adds a parsed histogram's samples to the current group of `sums` (opened on `t.spread`). */
function addHistogram(sums: EstimateSums, t: CompiledCalibration, base: number, h: SparseHistogram | undefined): void {
  if (!h) return;
  for (const key of Object.keys(h)) {
    const parsed = parseStratifiedBin(key);
    if (!parsed || parsed.bin >= t.bins) continue;
    const level = parsed.stratum === '' ? t.pooledLevel : t.levelOf(parsed.stratum);
    addCount(sums, t, base, level * t.bins + parsed.bin, h[key]);
  }
}

// Entries of one histogram text, applied once the whole text has scanned.
let scratchKeys: Int32Array = new Int32Array(256);
let scratchCounts: Float64Array = new Float64Array(256);

/**
 * Adds a histogram given as its JSON text (as the rollup stores it) without parsing it into an object. Text other
 * than JSON.stringify's compact object of integer counts (whitespace, an escaped key, a fraction) is parsed after all.
 */
function addHistogramText(sums: EstimateSums, t: CompiledCalibration, base: number, text: string | null | undefined): void {
  if (text === null || text === undefined) return;
  const entries = scanHistogramText(t, text);
  if (entries < 0) {
    addHistogram(sums, t, base, JSON.parse(text) as SparseHistogram);
    return;
  }
  for (let e = 0; e < entries; e++) addCount(sums, t, base, scratchKeys[e], scratchCounts[e]);
}

const QUOTE = 34;
const COLON = 58;
const COMMA = 44;
const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * Scans `{"<key>":<integer>,...}` into the scratch arrays: per entry the key's (level * bins + bin) index, -1 for a
 * key outside parseStratifiedBin's grammar or bins, and its count. The number of entries, or -1 for any other text.
 * The text is valid JSON (PostgreSQL checks json on the way in) written by JSON.stringify: a key never repeats.
 */
function scanHistogramText(t: CompiledCalibration, s: string): number {
  const end = s.length;
  if (s.charCodeAt(0) !== 123 /* { */) return -1;
  if (s.charCodeAt(1) === 125 /* } */) return end === 2 ? 0 : -1;
  const bins = t.bins;
  let i = 1;
  let entries = 0;
  for (;;) {
    if (s.charCodeAt(i++) !== QUOTE) return -1;
    const keyStart = i;
    let first = 0;
    let c = s.charCodeAt(i);
    while (isDigit(c)) {
      first = first * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    const firstLen = i - keyStart;
    let key = -1;
    if (firstLen >= 1 && firstLen <= 6) {
      if (c === QUOTE) {
        if (first < bins) key = t.pooledLevel * bins + first;
      } else if (c === COLON) {
        const agree = s.charCodeAt(i + 1) - 48;
        if ((agree === 0 || agree === 1) && s.charCodeAt(i + 2) === COLON) {
          const stratumEnd = i + 2;
          i += 3;
          const binStart = i;
          let bin = 0;
          c = s.charCodeAt(i);
          while (isDigit(c)) {
            bin = bin * 10 + (c - 48);
            c = s.charCodeAt(++i);
          }
          if (c === QUOTE && i > binStart && i - binStart <= 6 && bin < bins) {
            // A class written with a leading zero names another stratum (never written, but resolved as written).
            const indexed = first < t.classLimit && (firstLen === 1 || s.charCodeAt(keyStart) !== 48);
            key = (indexed ? t.stratumLevel[first * 2 + agree] : t.levelOf(s.slice(keyStart, stratumEnd))) * bins + bin;
          }
        }
      }
    }
    // The rest of a malformed key; an escape means the text needs JSON.parse.
    while (c !== QUOTE) {
      if (c === 92 /* \ */ || i >= end) return -1;
      c = s.charCodeAt(++i);
    }
    if (s.charCodeAt(++i) !== COLON) return -1;
    const countStart = ++i;
    let count = 0;
    c = s.charCodeAt(i);
    while (isDigit(c)) {
      count = count * 10 + (c - 48);
      c = s.charCodeAt(++i);
    }
    if (i === countStart || i - countStart > 15 || (c !== COMMA && c !== 125)) return -1;
    if (entries === scratchKeys.length) {
      scratchKeys = growInt(scratchKeys);
      scratchCounts = growFloat(scratchCounts);
    }
    scratchKeys[entries] = key;
    scratchCounts[entries++] = count;
    i++;
    if (c === 125 /* } */) return i === end ? entries : -1;
  }
}

function growInt(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
function growFloat(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * The stratified accuracy estimate of one step's samples over several exits, each with the reference's calibration
 * of that exit: histograms (parsed, or their stored JSON text) are added as they come, then `finish` gives the
 * estimate and starts the next step. Each stratum counts under the finest calibration the reference has for it (its
 * stratum, else its class, else the exit pooled, else its raw confidence, as most uncertain).
 */
export class StratifiedEstimator {
  private readonly tables: CompiledCalibration[];
  /** First slot of each exit's blocks in the group: exits never share a block, even under one calibration. */
  private readonly bases: number[] = [];
  private readonly spread: Float64Array;
  private readonly sums = new EstimateSums();

  constructor(calibrations: readonly (StratifiedCalibration | undefined)[], bins = CONFIDENCE_BINS) {
    this.tables = calibrations.map((c) => compileCalibration(c, bins));
    let slots = 0;
    for (const t of this.tables) {
      this.bases.push(slots);
      slots += t.spread.length;
    }
    this.spread = new Float64Array(slots);
    this.tables.forEach((t, i) => this.spread.set(t.spread, this.bases[i]));
    this.sums.open(this.spread);
  }

  /** Adds a parsed histogram of exit `exit` (an index into the calibrations). */
  add(exit: number, counts: SparseHistogram | undefined): void {
    addHistogram(this.sums, this.tables[exit], this.bases[exit], counts);
  }

  /** Adds a histogram of exit `exit` as the rollup stores it (JSON text), without JSON.parse when it can. */
  addText(exit: number, text: string | null | undefined): void {
    addHistogramText(this.sums, this.tables[exit], this.bases[exit], text);
  }

  /** The estimate of everything added since the last finish (null without samples) and the samples counted. */
  finish(): { estimate: AccuracyEstimate | null; samples: number } {
    this.sums.close();
    const out = { estimate: this.sums.result(), samples: this.sums.samples };
    this.sums.reset();
    this.sums.open(this.spread);
    return out;
  }
}

/** One exit's target samples (a stratified histogram) and the reference's calibration of that exit. */
export interface StratifiedTarget {
  counts: SparseHistogram | undefined;
  calibration: StratifiedCalibration | undefined;
}

/** The estimate of the exits' samples (see StratifiedEstimator). */
export function estimateStratified(targets: readonly StratifiedTarget[], bins = CONFIDENCE_BINS): { estimate: AccuracyEstimate | null; samples: number } {
  const estimator = new StratifiedEstimator(
    targets.map((t) => t.calibration),
    bins,
  );
  targets.forEach((t, i) => estimator.add(i, t.counts));
  return estimator.finish();
}
