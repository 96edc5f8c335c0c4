import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EvalRun } from '@ddnn/ddnn';
import { argmax, CONFIDENCE_BINS, estimateAccuracy, fitCalibration, normalizedEntropy, unitBin, type Calibration } from '@ddnn/policies';
import { numberFlag } from './model-options';

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

function pct(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(1)}%`;
}

/**
 * `ddnn estimate`: how well accuracy is estimated without labels on the test split, calibrated on a labelled
 * reference: another dataset of the same cameras (both splits), or else the train split (optimistic: the model
 * learnt it, so it looks better calibrated there than on new data).
 */
export function registerEstimateCommand(program: Command): void {
  program
    .command('estimate')
    .description('Accuracy estimated without labels (CBPE) on the test split, calibrated on a labelled reference, against the true accuracy')
    .requiredOption('--model <dir>', 'checkpoint directory')
    .requiredOption('--data <dir>', 'dataset folder (its test split is estimated)')
    .option('--reference <dirs>', 'labelled reference datasets, comma-separated (all their samples calibrate); default: the train split of --data')
    .option('--threshold <T>', "local exit iff normalized entropy < T (default: the model's threshold)", numberFlag('--threshold', 0, 1))
    .option('--json', 'print the report as JSON on the last line')
    .action(async (flags: { model: string; data: string; reference?: string; threshold?: number; json?: boolean }) => {
      const { loadDataset } = await import('@ddnn/datasets');
      const { DEFAULT_THRESHOLD, loadCheckpoint, runModel } = await import('@ddnn/ddnn');
      const model = await loadCheckpoint(resolve(flags.model));
      const ds = await loadDataset(resolve(flags.data));
      const reference = [];
      for (const dir of (flags.reference ?? '').split(',').filter(Boolean)) {
        const refDs = await loadDataset(resolve(dir));
        reference.push(await runModel(model, refDs, { split: 'train' }), await runModel(model, refDs, { split: 'test' }));
      }
      if (reference.length === 0) reference.push(await runModel(model, ds, { split: 'train' }));
      const target = await runModel(model, ds, { split: 'test' });
      const report = estimateAgainstTruth(reference, target, flags.threshold ?? model.threshold ?? DEFAULT_THRESHOLD);
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
      else {
        const rows = [['overall', report.overall] as const, ...Object.entries(report.exits)];
        for (const [name, l] of rows) {
          process.stdout.write(`${name.padEnd(8)} ${String(l!.samples).padStart(5)} samples  estimated ${pct(l!.estimated)} [${pct(l!.low)}, ${pct(l!.high)}]  true ${pct(l!.truth)}\n`);
        }
      }
    });
}
