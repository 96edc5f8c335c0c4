import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MultiBar, Presets } from 'cli-progress';
import { loadDataset } from '@ddnn/datasets';
import { metricsAt, runModel, saveCheckpoint, schemeName, TRAIN_DEFAULTS, trainDdnn, type EpochReport } from '@ddnn/ddnn';
import { aggregatorFlag, intFlag, listFlag, numberFlag, topologyFromFlags, type TopologyFlags } from './model-options';
import { log } from '../log';

interface TrainFlags extends TopologyFlags {
  data: string;
  out: string;
  epochs: number;
  seed: number;
  batch: number;
  dropout: number;
  threshold: number;
  json?: boolean;
  progress: boolean;
}

function shortExit(name: string): string {
  return name.replace('device-', 'd').replace('edge-', 'e:');
}

/** One status line per epoch: loss/accuracy of every exit. */
export function formatEpoch(r: EpochReport): string {
  return r.exits.map((e) => `${shortExit(e.exit)} ${e.loss.toFixed(3)}/${(100 * e.accuracy).toFixed(0)}%`).join('  ');
}

/** `ddnn train`: joint training of a DDNN, saved as a checkpoint directory. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description("Train a DDNN jointly (defaults: the paper's 6 devices, 1 ConvP of 4 filters, MP-CC, 100 epochs, full batch)")
    .requiredOption('--data <dir>', 'dataset folder')
    .requiredOption('--out <dir>', 'checkpoint directory to write')
    .option('--epochs <n>', 'training epochs', intFlag('--epochs', 1), TRAIN_DEFAULTS.epochs)
    .option('--seed <n>', 'random seed', intFlag('--seed'), TRAIN_DEFAULTS.seed)
    .option('--batch <n>', 'samples per step (>= training set = full batch)', intFlag('--batch', 1), TRAIN_DEFAULTS.batchSize)
    .option('--device-blocks <n>', 'ConvP blocks per device', intFlag('--device-blocks', 1))
    .option('--device-filters <n>', 'filters per device ConvP block', intFlag('--device-filters', 1))
    .option('--local-agg <agg>', 'local aggregator MP | AP | CC', aggregatorFlag('--local-agg'))
    .option('--cloud-agg <agg>', 'cloud aggregator MP | AP | CC', aggregatorFlag('--cloud-agg'))
    .option('--devices <list>', 'views used as end devices, e.g. 0,1,2,3,4,5', listFlag('--devices'))
    .option('--topology <file>', 'JSON topology (flags above override its fields)')
    .option('--dropout <p>', 'probability that a training sample sees one random device failed', numberFlag('--dropout', 0, 1), TRAIN_DEFAULTS.deviceDropout)
    .option('--threshold <T>', 'exit threshold for the test metrics stored in the checkpoint', numberFlag('--threshold', 0, 1), 0.8)
    .option('--no-progress', 'one stderr line per epoch instead of a progress bar')
    .option('--json', 'print a JSON summary as the last line')
    .action(async (flags: TrainFlags) => {
      const topology = await topologyFromFlags(flags);
      const ds = await loadDataset(resolve(flags.data));
      // cli-progress draws nothing on a non-TTY stream: print one line per epoch there instead.
      const bar = flags.progress && process.stderr.isTTY ? new MultiBar({ stream: process.stderr, format: 'epoch {value}/{total} [{bar}] {eta_formatted} | {exits}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : null;
      const epochBar = bar?.create(flags.epochs, 0, { exits: '' });
      const model = await trainDdnn(ds, topology, {
        epochs: flags.epochs,
        seed: flags.seed,
        batchSize: flags.batch,
        deviceDropout: flags.dropout,
        onEpoch: (r) => {
          if (epochBar) epochBar.update(r.epoch, { exits: formatEpoch(r) });
          else log(`epoch ${r.epoch}/${r.epochs} (${r.seconds.toFixed(1)} s) ${formatEpoch(r)}`);
        },
      });
      bar?.stop();
      const test = metricsAt(await runModel(model, ds), flags.threshold);
      model.metrics = { test };
      const out = resolve(flags.out);
      await saveCheckpoint(out, model);
      const t = model.training;
      const summary = {
        out,
        scheme: schemeName(topology),
        devices: topology.devices,
        epochs: t.epochs,
        secondsTotal: t.secondsTotal,
        secondsPerEpoch: t.secondsPerEpoch,
        cpuSecondsPerEpoch: t.cpuSecondsPerEpoch,
        backend: t.backend,
        train: t.finalExits,
        test,
      };
      if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else
        process.stdout.write(
          `saved ${out}: ${summary.scheme}, ${t.epochs} epochs in ${t.secondsTotal.toFixed(1)} s (${t.secondsPerEpoch.toFixed(2)} s/epoch wall, ${(t.cpuSecondsPerEpoch ?? 0).toFixed(2)} CPU s/epoch, ${t.backend})\n` +
            `test (T=${flags.threshold}): overall ${(100 * test.overall).toFixed(1)}%, local ${(100 * test.local).toFixed(1)}%, cloud ${(100 * test.cloud).toFixed(1)}%, ` +
            `local exits ${(100 * test.localExitRate).toFixed(1)}%, ${test.bytesPerSample.toFixed(1)} B/sample (${test.commReduction.toFixed(1)}x less than raw)\n`,
        );
    });
}
