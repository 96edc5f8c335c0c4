import { METRICS, missTally, type ExitTier, type MetricName, type MetricPoint, type MetricUnit, type MissReason } from '@ddnn/contracts';
import { mergeCells, type RollupCell } from './metrics-rollup-fold';
import type { RollupField, RollupRead } from './metrics-rollup';
import {
  coarsen,
  denseHistogram,
  ENTROPY_BINS,
  estimateStratified,
  StratifiedEstimator,
  fitStratifiedCalibration,
  histogramQuantile,
  LATENCY_BINS,
  latencyBinRange,
  populationStabilityIndex,
  unitBinRange,
  type StratifiedCalibration,
} from '@ddnn/policies';

/**
 * Each metric as a function of a rollup cell summed over one step (and, for estimates and drift, the reference
 * run's cell summed over the whole run). One definition per metric: charts, alert rules and the REST API all
 * read values through `metricValue`.
 */
const EXITS: readonly ExitTier[] = ['local', 'edge', 'cloud'];

interface MetricSpec {
  fields: RollupRead['fields'];
  /** Fields the reference cell needs (estimates, drift). */
  referenceFields?: readonly RollupField[];
  value(cell: RollupCell, stepMs: number, reference: ReferenceModel | null): Omit<MetricPoint, 't'>;
  /** An accuracy estimate: the exits whose confidences it reads (estimateSeriesPoints computes it from their texts). */
  estimates?: readonly ExitTier[];
}

/**
 * What a reference run contributes: its cell over the whole run (for a device subject, that device's cell in
 * it, or null when it took no part), and its per-exit stratified calibrations.
 */
export interface ReferenceModel {
  runId: string;
  cell: RollupCell;
  device?: RollupCell | null;
  calibration: Partial<Record<ExitTier, StratifiedCalibration>>;
}

export function referenceModel(runId: string, cell: RollupCell, device?: RollupCell | null): ReferenceModel {
  const calibration: Partial<Record<ExitTier, StratifiedCalibration>> = {};
  for (const exit of EXITS) {
    if (total(cell.confidenceLabelled?.[exit]) > 0) calibration[exit] = fitStratifiedCalibration(cell.confidenceLabelled?.[exit], cell.confidenceCorrect?.[exit]);
  }
  return device === undefined ? { runId, cell, calibration } : { runId, cell, device, calibration };
}

const none = (n = 0): Omit<MetricPoint, 't'> => ({ value: null, n });
const ratio = (num: number | undefined, den: number | undefined): Omit<MetricPoint, 't'> =>
  den && den > 0 ? { value: (num ?? 0) / den, n: den } : none();
const perSecond = (count: number | undefined, stepMs: number): Omit<MetricPoint, 't'> => ({ value: ((count ?? 0) * 1000) / stepMs, n: count ?? 0 });
/** A cell's requests as device_miss_rate counts them (the rule of @ddnn/contracts' missTally, which the pages share). */
const tally = (c: RollupCell) => missTally(c.answered ?? 0, c.missed ?? 0, c.missedBy?.skipped ?? 0);
const total = (h: Record<string, number> | undefined) => Object.values(h ?? {}).reduce((a, b) => a + b, 0);

function quantile(h: Record<string, number> | undefined, q: number, bins: number, range: (b: number) => [number, number]): Omit<MetricPoint, 't'> {
  const v = histogramQuantile(h, q, bins, range);
  return v === null ? none() : { value: v, n: total(h) };
}
const entropyRange = (b: number) => unitBinRange(b, ENTROPY_BINS);

function estimate(cell: RollupCell, reference: ReferenceModel | null, exits: readonly ExitTier[]): Omit<MetricPoint, 't'> {
  return estimatePointOf(estimateStratified(exits.map((e) => ({ counts: cell.confidence?.[e], calibration: reference?.calibration[e] }))), reference);
}

function estimatePointOf({ estimate: est, samples }: ReturnType<typeof estimateStratified>, reference: ReferenceModel | null): Omit<MetricPoint, 't'> {
  return reference && est ? { value: est.value, low: est.low, high: est.high, n: est.n } : none(samples);
}

function estimateSpec(exits: readonly ExitTier[]): MetricSpec {
  return {
    fields: exits.map((e) => `confidence.${e}` as const),
    referenceFields: ['confidenceLabelled', 'confidenceCorrect'],
    value: (c, _s, ref) => estimate(c, ref, exits),
    estimates: exits,
  };
}

type ExitMetric<T extends ExitTier> = `${'exit_rate' | 'entropy_p50' | 'entropy_p95' | 'accuracy_labelled' | 'accuracy_estimated'}_${T}`;

function exitSpecs<T extends ExitTier>(exit: T): Record<ExitMetric<T>, MetricSpec> {
  // Computed template keys widen to string: the cast restores the five names listed here.
  const specs: Record<string, MetricSpec> = {
    [`exit_rate_${exit}`]: { fields: [`exits.${exit}`, 'decided'], value: (c) => ratio(c.exits?.[exit], c.decided) },
    [`entropy_p50_${exit}`]: { fields: [`entropy.${exit}`], value: (c) => quantile(c.entropy?.[exit], 0.5, ENTROPY_BINS, entropyRange) },
    [`entropy_p95_${exit}`]: { fields: [`entropy.${exit}`], value: (c) => quantile(c.entropy?.[exit], 0.95, ENTROPY_BINS, entropyRange) },
    [`accuracy_labelled_${exit}`]: { fields: ['labelledByExit', 'correctByExit'], value: (c) => ratio(c.correctByExit?.[exit], c.labelledByExit?.[exit]) },
    [`accuracy_estimated_${exit}`]: estimateSpec([exit]),
  };
  return specs as Record<ExitMetric<T>, MetricSpec>;
}

function missRate(reason: MissReason): MetricSpec {
  return { fields: ['answered', 'missed', 'missedBy'], value: (c) => ratio(c.missedBy?.[reason], tally(c).captured) };
}

function entropyDrift(c: RollupCell, ref: ReferenceModel | null, device: boolean): Omit<MetricPoint, 't'> {
  const cur = device ? c.sectionEntropy : c.entropy?.local;
  // A device's drift is measured against the same device in the reference when it took part, else all of them.
  const base = device ? (ref?.device?.sectionEntropy ?? ref?.cell.sectionEntropy) : ref?.cell.entropy?.local;
  const n = total(cur);
  if (!ref || n === 0 || total(base) === 0) return none(n);
  const psi = populationStabilityIndex(coarsen(denseHistogram(base, ENTROPY_BINS)), coarsen(denseHistogram(cur, ENTROPY_BINS)));
  return psi === null ? none(n) : { value: psi, n };
}

/**
 * Samples a device's peer agreement needs in a window before its drift has a value: a rule neither fires nor
 * clears on a handful (at the start of a minute's bucket, say).
 */
export const AGREEMENT_DRIFT_MIN_SAMPLES = 30;

/**
 * A device's peer agreement minus its own in the reference run, at the top of the 95% interval of that
 * difference (both shares' binomial spread): a healthy device's drift stays above 0 but for 1 window in 40, and a
 * drop reads as large as the samples make certain, so a short window or reference cannot fake one.
 */
function peerAgreementDrift(c: RollupCell, ref: ReferenceModel | null): Omit<MetricPoint, 't'> {
  const [k, n] = [c.peerAgree ?? 0, c.peerAgreeN ?? 0];
  // Devices see different things (a camera with a poor view agrees less): each is compared with itself only.
  const [j, m] = [ref?.device?.peerAgree ?? 0, ref?.device?.peerAgreeN ?? 0];
  if (n < AGREEMENT_DRIFT_MIN_SAMPLES || m <= 0) return none(n);
  // (k+1)/(n+2) keeps a share of 0 or 1 from claiming no spread.
  const spread = (x: number, t: number) => ((x + 1) / (t + 2)) * (1 - (x + 1) / (t + 2)) / t;
  return { value: k / n - j / m + 1.96 * Math.sqrt(spread(k, n) + spread(j, m)), n };
}

const SPECS: Record<MetricName, MetricSpec> = {
  samples_per_second: { fields: ['samples'], value: (c, step) => perSecond(c.samples, step) },
  unanswered_rate: { fields: ['unanswered', 'decided'], value: (c) => ratio(c.unanswered, (c.decided ?? 0) + (c.unanswered ?? 0)) },
  ...exitSpecs('local'),
  ...exitSpecs('edge'),
  ...exitSpecs('cloud'),
  bytes_per_second: { fields: ['bytes', 'messages'], value: (c, step) => ({ value: ((c.bytes ?? 0) * 1000) / step, n: c.messages ?? 0 }) },
  device_latency_p50: { fields: ['latency'], value: (c) => quantile(c.latency, 0.5, LATENCY_BINS, latencyBinRange) },
  device_latency_p95: { fields: ['latency'], value: (c) => quantile(c.latency, 0.95, LATENCY_BINS, latencyBinRange) },
  device_miss_rate: { fields: ['answered', 'missed', 'missedBy'], value: (c) => ratio(tally(c).missed, tally(c).captured) },
  miss_rate_timeout: missRate('timeout'),
  miss_rate_disconnected: missRate('disconnected'),
  miss_rate_error: missRate('error'),
  miss_rate_invalid: missRate('invalid'),
  skipped_captures: { fields: ['missedBy'], value: (c, step) => ({ value: ((c.missedBy?.skipped ?? 0) * 60_000) / step, n: c.missedBy?.skipped ?? 0 }) },
  accuracy_labelled: { fields: ['labelled', 'correct'], value: (c) => ratio(c.correct, c.labelled) },
  accuracy_estimated: estimateSpec(EXITS),
  device_agreement: { fields: ['agree', 'agreeN'], value: (c) => ratio(c.agree, c.agreeN) },
  peer_agreement: { fields: ['peerAgree', 'peerAgreeN'], value: (c) => ratio(c.peerAgree, c.peerAgreeN) },
  peer_agreement_drift: { fields: ['peerAgree', 'peerAgreeN'], referenceFields: ['peerAgree', 'peerAgreeN'], value: (c, _s, ref) => peerAgreementDrift(c, ref) },
  local_exit_rate_drift: {
    fields: ['exits', 'decided'],
    referenceFields: ['exits', 'decided'],
    value: (c, _s, ref) => {
      const cur = ratio(c.exits?.local, c.decided);
      const base = ref ? ratio(ref.cell.exits?.local, ref.cell.decided) : none();
      return cur.value === null || base.value === null ? none(cur.n) : { value: cur.value - base.value, n: cur.n };
    },
  },
  entropy_drift: {
    fields: ['entropy.local', 'sectionEntropy'],
    referenceFields: ['entropy', 'sectionEntropy'],
    value: (c, _s, ref) => entropyDrift(c, ref, false),
  },
};

/** Rollup fields a metric reads from the subject's cells, and from the reference's. */
export function metricFields(metric: MetricName): { fields: RollupRead['fields']; referenceFields: readonly RollupField[] } {
  return { fields: SPECS[metric].fields, referenceFields: SPECS[metric].referenceFields ?? [] };
}

/** The exits an accuracy-estimate metric reads (null for any other metric): its series comes from estimateSeriesPoints. */
export function estimateExits(metric: MetricName): readonly ExitTier[] | null {
  return SPECS[metric].estimates ?? null;
}

/** The metric over one step's summed cell. `device`: the subject is one device (its sections, not the exits). */
export function metricValue(
  metric: MetricName,
  cell: RollupCell,
  stepMs: number,
  reference: ReferenceModel | null,
  device = false,
): Omit<MetricPoint, 't'> {
  if (metric === 'entropy_drift') return entropyDrift(cell, reference, device);
  return finite(SPECS[metric].value(cell, stepMs, reference));
}

/** Rates and sums of nothing are 0; a ratio of nothing has no value. NaN never leaves here. */
function finite(v: Omit<MetricPoint, 't'>): Omit<MetricPoint, 't'> {
  return v.value !== null && !Number.isFinite(v.value) ? none(v.n) : v;
}

function point(metric: MetricName, t: number, v: Omit<MetricPoint, 't'>): MetricPoint {
  const p: MetricPoint = { t, value: v.value, n: v.n };
  if (METRICS[metric].interval && v.low !== undefined) Object.assign(p, { low: v.low, high: v.high });
  return p;
}

/** Units of counts over a step's time (not ratios of what the step counted): a step seconds old has none yet. */
const PER_TIME_UNITS: ReadonlySet<MetricUnit> = new Set<MetricUnit>(['per_second', 'bytes_per_second', 'per_minute']);

/** How long a step still going on must have lasted before its rates over time have a value. */
export const STEP_MIN_ELAPSED_MS = 10_000;

/**
 * Points of a series: the buckets (ascending) summed into steps of `stepMs` from `from`, one point per step
 * in [from, to) with empty steps included. `now`: a step it falls in has lasted only until now, so its rates (per
 * second, per minute) are over that time, not the whole step (from STEP_MIN_ELAPSED_MS on); a step after it has no
 * value yet. The current minute counted as whole read a steady 2 samples/s as 1.0 at its start and drew every chart
 * ending in a cliff, and a rule on a rate fired and resolved once a minute. Ratios (exit rates, accuracy) need no
 * time: the current step has them from its first sample.
 */
export function seriesPoints(
  metric: MetricName,
  buckets: { bucket: number; cell: RollupCell }[],
  from: number,
  to: number,
  stepMs: number,
  reference: ReferenceModel | null,
  device = false,
  now = Infinity,
): MetricPoint[] {
  const count = Math.max(0, Math.ceil((to - from) / stepMs));
  const cells: (RollupCell | undefined)[] = new Array(count);
  const owned = new Uint8Array(count);
  for (const b of buckets) {
    const i = Math.floor((b.bucket - from) / stepMs);
    if (i < 0 || i >= count) continue;
    // A step of one bucket reads that bucket's cell as it is; only a step of several sums into a copy.
    const c = cells[i];
    if (!c) cells[i] = b.cell;
    else {
      if (!owned[i]) cells[i] = mergeCells({}, c);
      owned[i] = 1;
      mergeCells(cells[i]!, b.cell);
    }
  }
  return Array.from(cells, (cell, i) => {
    const t = from + i * stepMs;
    const lasted = Math.min(stepMs, now - t);
    if (lasted <= 0) return point(metric, t, none());
    const v = metricValue(metric, cell ?? {}, lasted, reference, device);
    // A rate of a step only seconds old has no value yet (what it counted, it keeps): it would divide a count the
    // rollup is still catching up on (it trails the log by a batch) by next to no time.
    const early = PER_TIME_UNITS.has(METRICS[metric].unit) && lasted < Math.min(stepMs, STEP_MIN_ELAPSED_MS);
    return point(metric, t, early ? none(v.n) : v);
  });
}

/**
 * An accuracy estimate's series (estimateExits) built from the stored texts of its exits' confidence histograms as
 * they are read (readRollupTexts: rows in ascending buckets, texts in the order of the exits): `add` each row, then
 * `points`. Equal to seriesPoints over the parsed cells; the sums behind an estimate add up across buckets, so a
 * step's rows are scanned into one estimate as they come.
 */
export function estimateSeries(metric: MetricName, from: number, to: number, stepMs: number, reference: ReferenceModel | null) {
  const exits = estimateExits(metric);
  if (!exits) throw new Error(`${metric} is not an accuracy estimate`);
  const estimator = new StratifiedEstimator(exits.map((e) => reference?.calibration[e]));
  const count = Math.max(0, Math.ceil((to - from) / stepMs));
  const values: Omit<MetricPoint, 't'>[] = new Array(count);
  let step = -1;
  const close = () => {
    if (step >= 0) values[step] = finite(estimatePointOf(estimator.finish(), reference));
  };
  return {
    add(bucket: number, texts: readonly (string | null)[]): void {
      const i = Math.floor((bucket - from) / stepMs);
      if (i < 0 || i >= count) return;
      if (i !== step) {
        if (i < step) throw new Error('estimate rows must come in ascending buckets');
        close();
        step = i;
      }
      texts.forEach((text, exit) => estimator.addText(exit, text));
    },
    points(): MetricPoint[] {
      close();
      step = -1;
      return Array.from(values, (v, i) => point(metric, from + i * stepMs, v ?? none()));
    },
  };
}
