import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SynthSample } from '@ddnn/datasets';
import { benchGroup } from './bench';
import { log } from '../log';
import { intFlag, pathFlag } from './model-options';

/** Wall seconds and CPU seconds of this process (CPU time shows the cost on a busy shared machine). */
async function seconds<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const t = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(cpu);
  return [value, Number(process.hrtime.bigint() - t) / 1e9, (used.user + used.system) / 1e6];
}

/**
 * A dataset of `samples` samples written from a smaller rendered pool (cycled), since only the
 * loader's speed is measured and rendering 10,000 scenes would dominate the run.
 */
async function writeBenchDataset(dir: string, samples: number, pool: number): Promise<void> {
  const { DatasetWriter, synthManifest, synthSamples } = await import('@ddnn/datasets');
  const rendered: SynthSample[] = [...synthSamples({ samples: pool, seed: 1 })];
  const writer = await DatasetWriter.create(dir, synthManifest({ seed: 1 }));
  const digits = String(samples - 1).length;
  for (let i = 0; i < samples; i++) {
    const s = rendered[i % pool];
    await writer.add(`b${String(i).padStart(digits, '0')}`, s.split, s.label, s.views);
  }
  await writer.finish();
}

/** `ddnn bench datasets`: how fast a dataset folder loads, whole and one view at a time. */
export function registerDatasetBench(program: Command): void {
  benchGroup(program)
    .command('datasets')
    .description('Time loading a multi-view dataset folder (whole, and one view as a device agent does)')
    .option('--samples <n>', 'samples in the generated folder', intFlag('--samples', 1), 10000)
    .option('--dir <dir>', 'measure an existing dataset folder instead of generating one', pathFlag('--dir'))
    .option('--keep <dir>', 'generate into this folder and keep it (for later runs with --dir)', pathFlag('--keep'))
    .option('--json', 'print the numbers as JSON on the last line')
    .action(async (opts: { samples: number; dir?: string; keep?: string; json?: boolean }) => {
      const { loadDataset, loadDatasetView } = await import('@ddnn/datasets');
      if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new Error(`--samples must be a positive integer, got ${opts.samples}`);
      const tmp = opts.dir || opts.keep ? undefined : await mkdtemp(join(tmpdir(), 'ddnn-bench-ds-'));
      const dir = resolve(opts.dir ?? opts.keep ?? (tmp as string));
      try {
        let writeSeconds: number | undefined;
        if (!opts.dir) {
          log(`writing ${opts.samples} samples to ${dir}`);
          [, writeSeconds] = await seconds(() => writeBenchDataset(dir, opts.samples, Math.min(opts.samples, 400)));
        }
        const [ds, loadSeconds, loadCpuSeconds] = await seconds(() => loadDataset(dir));
        const [, viewSeconds, viewCpuSeconds] = await seconds(() => loadDatasetView(dir, 0));
        const n = ds.sampleIds.length;
        const images = ds.present.reduce((s, p) => s + p, 0);
        const result = {
          samples: n,
          views: ds.manifest.views,
          images,
          writeSeconds,
          loadSeconds: +loadSeconds.toFixed(2),
          loadCpuSeconds: +loadCpuSeconds.toFixed(2),
          imagesPerSecond: Math.round(images / loadSeconds),
          oneViewSeconds: +viewSeconds.toFixed(2),
          oneViewCpuSeconds: +viewCpuSeconds.toFixed(2),
          oneViewToWholeRatio: +(viewSeconds / loadSeconds).toFixed(3),
        };
        if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
        else {
          process.stdout.write(
            `loaded ${n} samples x ${ds.manifest.views} views (${images} images) in ${result.loadSeconds} s (${result.loadCpuSeconds} s CPU): ${result.imagesPerSecond} images/s\n` +
              `one view alone: ${result.oneViewSeconds} s, ${result.oneViewCpuSeconds} s CPU (${result.oneViewToWholeRatio} of the whole load)\n`,
          );
        }
      } finally {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }
    });
}
