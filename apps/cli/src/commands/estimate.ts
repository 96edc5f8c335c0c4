import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EstimateReport } from './estimate-report';
import { numberFlag, pathFlag } from './model-options';

function pct(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(1)}%`;
}

/** Whether two paths name one folder (through links too); a path that does not resolve is compared as written. */
function sameFolder(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(resolve(p));
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * `ddnn estimate`: how well accuracy is estimated without labels on the test split, calibrated (per exit,
 * predicted class and device agreement) on a labelled reference: another dataset of the same cameras (both
 * splits), or else the train split, which is optimistic (the model learnt it, so it looks better calibrated there
 * than on new data) and says so.
 */
export function registerEstimateCommand(program: Command): void {
  program
    .command('estimate')
    .description('Accuracy estimated without labels (CBPE) on the test split, calibrated on a labelled reference, against the true accuracy')
    .requiredOption('--model <dir>', 'checkpoint directory', pathFlag('--model'))
    .requiredOption('--data <dir>', 'dataset folder (its test split is estimated)', pathFlag('--data'))
    .option('--reference <dirs>', 'labelled reference datasets the model did not train on, comma-separated (all their samples calibrate); default: the train split of --data (optimistic)')
    .option('--threshold <T>', "local exit iff normalized entropy < T (default: the model's threshold)", numberFlag('--threshold', 0, 1))
    .option('--json', 'print the report as JSON on the last line')
    .action(async (flags: { model: string; data: string; reference?: string; threshold?: number; json?: boolean }) => {
      const references = (flags.reference ?? '').split(',').filter(Boolean);
      // Calibrating on the very samples estimated reads their labels: the estimate would match the truth by construction.
      if (references.some((dir) => sameFolder(dir, flags.data))) {
        throw new Error(`--reference names the dataset of --data (${flags.data}): the reference must be labelled data the estimate is not made on`);
      }
      const { loadDataset } = await import('@ddnn/datasets');
      const { estimateAgainstTruth } = await import('./estimate-report');
      const { DEFAULT_THRESHOLD, loadCheckpoint, runModel } = await import('@ddnn/ddnn');
      const model = await loadCheckpoint(resolve(flags.model));
      const ds = await loadDataset(resolve(flags.data));
      const reference = [];
      for (const dir of references) {
        const refDs = await loadDataset(resolve(dir));
        reference.push(await runModel(model, refDs, { split: 'train' }), await runModel(model, refDs, { split: 'test' }));
      }
      if (reference.length === 0) {
        process.stderr.write('estimate: no --reference: calibrating on the train split of --data, which the model learnt (optimistic)\n');
        reference.push(await runModel(model, ds, { split: 'train' }));
      }
      const target = await runModel(model, ds, { split: 'test' });
      const report = estimateAgainstTruth(reference, target, flags.threshold ?? model.threshold ?? DEFAULT_THRESHOLD);
      if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
      else {
        // Each exit's line is over the samples that exited there (eval's exit accuracies score every sample instead).
        process.stdout.write(`accuracy at T=${report.threshold}: overall over all ${report.targetSamples} test samples, each exit over the samples that exited there\n`);
        const rows: [string, EstimateReport['overall'] | undefined][] = [['overall', report.overall], ...Object.entries(report.exits)];
        for (const [name, l] of rows) {
          if (!l) continue;
          const what = name === 'overall' ? 'samples' : `exited at ${name}`;
          process.stdout.write(`${name.padEnd(8)} ${String(l.samples).padStart(5)} ${what.padEnd(16)} estimated ${pct(l.estimated)} [${pct(l.low)}, ${pct(l.high)}]  true ${pct(l.truth)}\n`);
        }
      }
    });
}
