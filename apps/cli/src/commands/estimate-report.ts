import type { EvalRun } from '@ddnn/ddnn';
import {
  argmax,
  CONFIDENCE_BINS,
  devicesAgree,
  estimateStratified,
  fitStratifiedCalibration,
  mergeHistograms,
  normalizedEntropy,
  stratifiedBin,
  stratumKey,
  unitBin,
  type SparseHistogram,
  type StratifiedTarget,
} from '@ddnn/policies';

type Exit = 'local' | 'edge' | 'cloud';

/** Which exit answers each sample at threshold T (local, then edge, then cloud), and that exit's output. */
function answers(run: EvalRun, threshold: number): { exit: Exit; p: Float32Array }[] {
  return Array.from(run.labels, (_, i) => {
    if (normalizedEntropy(run.local[i]) < threshold) return { exit: 'local' as const, p: run.local[i] };
    if (run.edge && normalizedEntropy(run.edge[i]) < threshold) return { exit: 'edge' as const, p: run.edge[i] };
    return { exit: 'cloud' as const, p: run.cloud[i] };
  });
}


/** Per exit, the stratified confidence histograms (strata.ts) of the samples it answered, and of those it got right. */
interface ExitHistograms {
  counts: SparseHistogram;
  correct: SparseHistogram;
  /** Samples answered, and answered right. */
  n: number;
  right: number;
}

function histograms(run: EvalRun, threshold: number): Record<Exit, ExitHistograms> {
  const empty = (): ExitHistograms => ({ counts: {}, correct: {}, n: 0, right: 0 });
  const out: Record<Exit, ExitHistograms> = { local: empty(), edge: empty(), cloud: empty() };
  answers(run, threshold).forEach(({ exit, p }, i) => {
    const prediction = argmax(p);
    // the devices that sent scores for the sample (live, and their camera captured it)
    const own = run.devicePredictions.flatMap((d) => (d && d[i] >= 0 ? [d[i]] : []));
    const key = stratifiedBin(stratumKey(prediction, devicesAgree(own, prediction)), unitBin(p[prediction], CONFIDENCE_BINS));
    const h = out[exit];
    h.counts[key] = (h.counts[key] ?? 0) + 1;
    h.n++;
    if (prediction === run.labels[i]) {
      h.correct[key] = (h.correct[key] ?? 0) + 1;
      h.right++;
    }
  });
  return out;
}

export interface EstimateLine {
  samples: number;
  estimated: number | null;
  low: number | null;
  high: number | null;
  /** Accuracy once the labels are known. */
  truth: number | null;
  /** |estimated - truth| in percentage points. */
  errorPoints: number | null;
}
export interface EstimateReport {
  threshold: number;
  referenceSamples: number;
  targetSamples: number;
  overall: EstimateLine;
  exits: Partial<Record<Exit, EstimateLine>>;
}

function line(targets: StratifiedTarget[], correct: number, samples: number): EstimateLine {
  const est = estimateStratified(targets).estimate;
  const truth = samples ? correct / samples : null;
  return {
    samples,
    estimated: est?.value ?? null,
    low: est?.low ?? null,
    high: est?.high ?? null,
    truth,
    errorPoints: est && truth !== null ? Math.abs(est.value - truth) * 100 : null,
  };
}

/**
 * Confidence-based estimation of the target run's accuracy (its labels withheld from the estimate), calibrated
 * per exit and stratum on the labelled reference runs, beside the accuracy its labels give.
 */
export function estimateAgainstTruth(reference: EvalRun[], target: EvalRun, threshold: number): EstimateReport {
  const ref = reference.map((r) => histograms(r, threshold));
  const tgt = histograms(target, threshold);
  const exits: Partial<Record<Exit, EstimateLine>> = {};
  const targets: StratifiedTarget[] = [];
  let correct = 0;
  for (const exit of ['local', 'edge', 'cloud'] as const) {
    const { n, right, counts } = tgt[exit];
    if (!n) continue;
    const calibration = fitStratifiedCalibration(mergeHistograms(ref.map((h) => h[exit].counts)), mergeHistograms(ref.map((h) => h[exit].correct)));
    targets.push({ counts, calibration });
    correct += right;
    exits[exit] = line([{ counts, calibration }], right, n);
  }
  return { threshold, referenceSamples: reference.reduce((n, r) => n + r.labels.length, 0), targetSamples: target.labels.length, overall: line(targets, correct, target.labels.length), exits };
}
