import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EvalMetrics } from '@ddnn/ddnn';
import { intFlag, listFlag, numberFlag, pathFlag } from './model-options';

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** A device's individual accuracy: `failed` when failed on purpose, `n/a` when its camera captured no test sample. */
function individualText(m: EvalMetrics, d: number): string {
  const a = m.individual[d];
  if (a === null) return 'failed';
  return m.individualSamples[d] === 0 ? 'n/a' : pct(a);
}

/**
 * Human-readable form of eval metrics. `overall` scores each sample at the exit it took; the exits' own accuracies
 * score every sample at that exit (what `estimate` reports instead is the accuracy of the samples that exited there).
 */
// `comparedToRaw` is passed in: `ddnn --help` loads no command's libraries, @ddnn/contracts included.
export function formatMetrics(m: EvalMetrics, comparedToRaw: (bytes: number, rawBytes: number) => string): string {
  return [
    `${m.samples} test samples, T=${m.threshold}`,
    `overall ${pct(m.overall)} (each sample at the exit it took)`,
    `each exit on all samples: local ${pct(m.local)}  cloud ${pct(m.cloud)}${m.edge !== undefined ? `  edge ${pct(m.edge)}` : ''}`,
    `individual devices (on all samples): ${m.individual.map((_, d) => individualText(m, d)).join('  ')}`,
    ...(m.unanswered > 0 ? [`unanswered ${pct(m.unanswered)}: no device sent anything for these samples (counted wrong at every exit)`] : []),
    `local exits ${pct(m.localExitRate)}${m.edgeExitRate !== undefined ? `, edge exits ${pct(m.edgeExitRate)}` : ''}; ${m.bytesPerSample.toFixed(1)} B/sample vs ${+m.rawBytesPerSample.toFixed(1)} B raw offload (${comparedToRaw(m.bytesPerSample, m.rawBytesPerSample)})`,
  ].join('\n');
}

/** `ddnn eval` and `ddnn sweep`: accuracy, exits and communication of a trained model on the test split. */
export function registerEvalCommands(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a checkpoint on the test split at one exit threshold')
    .requiredOption('--model <dir>', 'checkpoint directory', pathFlag('--model'))
    .requiredOption('--data <dir>', 'dataset folder', pathFlag('--data'))
    .option('--threshold <T>', "local exit iff normalized entropy < T (default: the model's threshold)", numberFlag('--threshold', 0, 1))
    .option('--fail <list>', 'devices (views) dead at inference time, e.g. 2,5', listFlag('--fail'))
    .option('--batch <n>', 'inference batch size (default: 256, or as many as the backend holds for large images)', intFlag('--batch', 1))
    .option('--json', 'print the metrics as JSON on the last line')
    .action(async (flags: { model: string; data: string; threshold?: number; fail?: number[]; batch?: number; json?: boolean }) => {
      const { loadDataset } = await import('@ddnn/datasets');
      const { DEFAULT_THRESHOLD, loadCheckpoint, metricsAt, runModel } = await import('@ddnn/ddnn');
      const { comparedToRaw } = await import('@ddnn/contracts');
      const model = await loadCheckpoint(resolve(flags.model));
      const ds = await loadDataset(resolve(flags.data));
      const run = await runModel(model, ds, { fail: flags.fail, batchSize: flags.batch });
      const m = metricsAt(run, flags.threshold ?? model.threshold ?? DEFAULT_THRESHOLD);
      if (flags.json) process.stdout.write(JSON.stringify({ ...m, failed: flags.fail ?? [] }) + '\n');
      else process.stdout.write(formatMetrics(m, comparedToRaw) + '\n');
    });

  program
    .command('sweep')
    .description('Local exit rate, overall accuracy and bytes per sample for T = 0, 0.05, ..., 1')
    .requiredOption('--model <dir>', 'checkpoint directory', pathFlag('--model'))
    .requiredOption('--data <dir>', 'dataset folder', pathFlag('--data'))
    .option('--step <s>', 'threshold step', numberFlag('--step', 0.001, 1), 0.05)
    .option('--fail <list>', 'devices (views) dead at inference time', listFlag('--fail'))
    .option('--json', 'print the sweep as JSON on the last line')
    .action(async (flags: { model: string; data: string; step: number; fail?: number[]; json?: boolean }) => {
      const { loadDataset } = await import('@ddnn/datasets');
      const { DEFAULT_THRESHOLD, loadCheckpoint, metricsAt, runModel, sweepThresholds } = await import('@ddnn/ddnn');
      const model = await loadCheckpoint(resolve(flags.model));
      const ds = await loadDataset(resolve(flags.data));
      const run = await runModel(model, ds, { fail: flags.fail });
      const points = sweepThresholds(run, flags.step);
      const ends = metricsAt(run, 0);
      const result = { samples: ends.samples, local: ends.local, cloud: ends.cloud, rawBytesPerSample: ends.rawBytesPerSample, modelThreshold: model.threshold ?? DEFAULT_THRESHOLD, points };
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`local ${pct(result.local)}, cloud ${pct(result.cloud)}, ${result.samples} test samples\n   T  local exit  overall  bytes/sample\n`);
        for (const p of points) process.stdout.write(`${p.threshold.toFixed(2).padStart(5)} ${pct(p.localExitRate).padStart(10)} ${pct(p.overall).padStart(8)} ${p.bytesPerSample.toFixed(1).padStart(13)}\n`);
      }
    });
}
