import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { registerDatasetBench } from './dataset-bench';
import type { DatasetSummary } from '@ddnn/datasets';
import { log, logger } from '../log';
import { checkOutputFile } from './output-file';
import { intFlag, pathFlag } from './model-options';

function fractionOption(value: string): number {
  const n = Number(value);
  // 0 would leave no test split: train's and eval's test figures would be over no samples.
  if (!(n > 0 && n < 1)) throw new Error(`--test-fraction must be a number in (0, 1), got "${value}"`);
  return n;
}

function progress(label: string): (done: number, total: number) => void {
  const started = Date.now();
  return (done, total) => log(`${label}: ${done}/${total} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Plain-text report of a dataset summary. */
export function formatSummary(s: DatasetSummary): string {
  const lines = [
    `${s.name}: ${s.samples} samples (${s.splits.train} train / ${s.splits.test} test), ${s.views} views of ${s.shape.height}x${s.shape.width}x${s.shape.channels}`,
    '',
    'class       train   test  total  share',
    ...s.classes.map((c) => `${c.name.padEnd(10)} ${String(c.train).padStart(6)} ${String(c.test).padStart(6)} ${String(c.total).padStart(6)} ${pct(c.fraction).padStart(6)}`),
    '',
    'view  present  missing  pixel mean  pixel std',
    ...s.perView.map(
      (v) => `${String(v.view).padStart(4)} ${String(v.present).padStart(8)} ${pct(v.missingRate).padStart(8)} ${v.mean.toFixed(3).padStart(11)} ${v.std.toFixed(3).padStart(10)}`,
    ),
    `all views missing rate: ${pct(s.missingRate)}`,
    `samples by number of views present: ${s.viewsPresentHistogram.map((n, k) => `${k}:${n}`).join(' ')}`,
  ];
  return lines.join('\n');
}

/** Skipped input files named one by one on the terminal; the rest are counted (and all listed with --json). */
const SKIPS_LISTED = 10;

/** `ddnn dataset ...`: generate, convert and inspect multi-view datasets. */
export function registerDatasetCommands(program: Command): void {
  registerDatasetBench(program);
  const group = program.command('dataset').description('Generate, convert (split-grid: an image folder into a multi-view dataset) and inspect multi-view datasets (folder format: libs/datasets/README.md)');

  group
    .command('synth')
    .description('Generate the synthetic multi-camera dataset (3 classes, 6 cameras, missing views; --mode rich: 10 classes, 24x24)')
    .requiredOption('--out <dir>', 'output folder', pathFlag('--out'))
    .option('--mode <mode>', 'default (the default dataset) or rich (the second benchmark)', 'default')
    .option('--samples <n>', 'number of samples (default 851, rich 1500)', intFlag('--samples', 1))
    .option('--views <n>', 'number of cameras (1..6)', intFlag('--views', 1), 6)
    .option('--seed <n>', 'random seed', intFlag('--seed'), 1)
    .option('--force', 'replace a dataset already in the output folder')
    .option('--json', 'print a JSON summary as the last line')
    .action(async (opts: { out: string; mode: string; samples?: number; views: number; seed: number; force?: boolean; json?: boolean }) => {
      const { loadDataset, summarizeDataset, writeSynthDataset } = await import('@ddnn/datasets');
      const out = resolve(opts.out);
      const started = Date.now();
      if (opts.mode !== 'default' && opts.mode !== 'rich') throw new Error(`--mode must be default or rich, got "${opts.mode}"`);
      const manifest = await writeSynthDataset(out, { samples: opts.samples, views: opts.views, seed: opts.seed, mode: opts.mode, overwrite: opts.force, onProgress: progress('rendered') });
      const seconds = (Date.now() - started) / 1000;
      const summary = summarizeDataset(await loadDataset(out));
      if (opts.json) process.stdout.write(JSON.stringify({ out, seconds, manifest, summary }) + '\n');
      else process.stdout.write(`wrote ${out} in ${seconds.toFixed(1)} s\n${formatSummary(summary)}\n`);
    });

  group
    .command('split-grid')
    .description('Turn a labelled single-view image folder (IN/<class>/*.png|jpg) into a multi-view dataset: device k sees grid cell k, row by row')
    .requiredOption('--in <dir>', 'input folder, one sub-folder per class', pathFlag('--in'))
    .requiredOption('--out <dir>', 'output dataset folder', pathFlag('--out'))
    .requiredOption('--rows <n>', 'grid rows', intFlag('--rows', 1))
    .requiredOption('--cols <n>', 'grid columns', intFlag('--cols', 1))
    .option('--test-fraction <f>', 'fraction of each class held out for testing', fractionOption, 0.2)
    .option('--size <n>', 'side of each view after resizing', intFlag('--size', 1), 32)
    .option('--seed <n>', 'seed of the train/test split', intFlag('--seed'), 1)
    .addOption(new Option('--channels <n>', 'channels of the views (default: 1 when every image is grey, else 3)').choices(['1', '3']))
    .option('--force', 'replace a dataset already in the output folder')
    .option('--json', 'print a JSON summary as the last line')
    .action(async (opts: { in: string; out: string; rows: number; cols: number; testFraction: number; size: number; seed: number; channels?: '1' | '3'; force?: boolean; json?: boolean }) => {
      const { loadDataset, splitGridDataset, summarizeDataset } = await import('@ddnn/datasets');
      const out = resolve(opts.out);
      const result = await splitGridDataset(resolve(opts.in), out, {
        rows: opts.rows,
        cols: opts.cols,
        testFraction: opts.testFraction,
        height: opts.size,
        width: opts.size,
        seed: opts.seed,
        overwrite: opts.force,
        ...(opts.channels ? { channels: Number(opts.channels) as 1 | 3 } : {}),
      });
      const summary = summarizeDataset(await loadDataset(out));
      for (const skip of result.skipped.slice(0, SKIPS_LISTED)) logger.warn(`skipped ${skip.file}: ${skip.reason}`);
      if (result.skipped.length > SKIPS_LISTED) logger.warn(`... and ${result.skipped.length - SKIPS_LISTED} more skipped files (--json lists them all)`);
      if (opts.json) process.stdout.write(JSON.stringify({ out, manifest: result.manifest, summary, skipped: result.skipped }) + '\n');
      else process.stdout.write(`wrote ${out} (${result.samples} samples, ${result.skipped.length} files skipped)\n${formatSummary(summary)}\n`);
    });

  group
    .command('info')
    .description('Counts per class and split, missing-view rate per view, image statistics; --sheet draws a contact sheet')
    .argument('<dir>', 'dataset folder', pathFlag('<dir>'))
    .option('--sheet <png>', 'write a contact sheet PNG (a few samples per class, all views side by side)', pathFlag('--sheet'))
    .option('--per-class <n>', 'samples per class on the sheet', intFlag('--per-class', 1), 4)
    .option('--json', 'print the summary as JSON on the last line')
    .action(async (dir: string, opts: { sheet?: string; perClass: number; json?: boolean }) => {
      if (opts.sheet) await checkOutputFile('--sheet', resolve(opts.sheet));
      const started = Date.now();
      const { contactSheet, encodePng, loadDataset, summarizeDataset } = await import('@ddnn/datasets');
      const ds = await loadDataset(resolve(dir));
      const loadSeconds = (Date.now() - started) / 1000;
      const summary = summarizeDataset(ds);
      if (opts.sheet) {
        await writeFile(resolve(opts.sheet), encodePng(contactSheet(ds, { perClass: opts.perClass })));
        log(`contact sheet: ${resolve(opts.sheet)}`);
      }
      if (opts.json) process.stdout.write(JSON.stringify({ ...summary, loadSeconds }) + '\n');
      else process.stdout.write(`${formatSummary(summary)}\nloaded in ${loadSeconds.toFixed(2)} s\n`);
    });
}
