import type { EvalRun } from '@ddnn/ddnn';
import { argmax, CONFIDENCE_BINS, estimateAccuracy, fitCalibration, normalizedEntropy, unitBin, type Calibration } from '@ddnn/policies';

type Exit = 'local' | 'edge' | 'cloud';

/** Which exit answers each sample at threshold T (local, then edge, then cloud), and that exit's output. */
function answers(run: EvalRun, threshold: number): { exit: Exit; p: Float32Array }[] {
  return Array.from(run.labels, (_, i) => {
    if (normalizedEntropy(run.local[i]) < threshold) return { exit: 'local' as const, p: run.local[i] };
    if (run.edge && normalizedEntropy(run.edge[i]) < threshold) return { exit: 'edge' as const, p: run.edge[i] };
    return { exit: 'cloud' as const, p: run.cloud[i] };
  });
}


interface ExitHistograms {
  counts: number[];
  correct: number[];
}

function histograms(run: EvalRun, threshold: number): Record<Exit, ExitHistograms> {
  const out: Record<Exit, ExitHistograms> = {
    local: { counts: new Array(CONFIDENCE_BINS).fill(0), correct: new Array(CONFIDENCE_BINS).fill(0) },
    edge: { counts: new Array(CONFIDENCE_BINS).fill(0), correct: new Array(CONFIDENCE_BINS).fill(0) },
    cloud: { counts: new Array(CONFIDENCE_BINS).fill(0), correct: new Array(CONFIDENCE_BINS).fill(0) },
  };
  answers(run, threshold).forEach(({ exit, p }, i) => {
    const b = unitBin(p[argmax(p)], CONFIDENCE_BINS);
    out[exit].counts[b]++;
    if (argmax(p) === run.labels[i]) out[exit].correct[b]++;
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

function line(parts: { counts: number[]; calibration: Calibration }[], correct: number, samples: number): EstimateLine {
  const est = estimateAccuracy(parts);
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
 * per exit on the labelled reference run, beside the accuracy its labels give.
 */
export function estimateAgainstTruth(reference: EvalRun[], target: EvalRun, threshold: number): EstimateReport {
  const ref = histograms(reference[0], threshold);
  for (const more of reference.slice(1)) {
    const h = histograms(more, threshold);
    for (const exit of ['local', 'edge', 'cloud'] as const) {
      h[exit].counts.forEach((c, b) => (ref[exit].counts[b] += c));
      h[exit].correct.forEach((c, b) => (ref[exit].correct[b] += c));
    }
  }
  const tgt = histograms(target, threshold);
  const exits: Partial<Record<Exit, EstimateLine>> = {};
  const parts: { counts: number[]; calibration: Calibration }[] = [];
  let correct = 0;
  for (const exit of ['local', 'edge', 'cloud'] as const) {
    const n = tgt[exit].counts.reduce((a, b) => a + b, 0);
    if (!n) continue;
    const part = { counts: tgt[exit].counts, calibration: fitCalibration(ref[exit].counts, ref[exit].correct) };
    parts.push(part);
    const right = tgt[exit].correct.reduce((a, b) => a + b, 0);
    correct += right;
    exits[exit] = line([part], right, n);
  }
  return { threshold, referenceSamples: reference.reduce((n, r) => n + r.labels.length, 0), targetSamples: target.labels.length, overall: line(parts, correct, target.labels.length), exits };
}
