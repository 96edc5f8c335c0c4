import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EpochReport } from '@ddnn/ddnn';
import { aggregatorFlag, intFlag, listFlag, numberFlag, pathFlag, topologyFromFlags, type TopologyFlags } from './model-options';
import { log, logger } from '../log';

interface TrainFlags extends TopologyFlags {
  data: string;
  out: string;
  paper?: boolean;
  epochs?: number;
  seed?: number;
  batch?: number;
  lr?: number;
  dropout?: number;
  eachDropout?: number;
  validation?: number;
  patience?: number;
  weightAverage?: number;
  hiddenDropout?: number;
  detachDeviceExits?: boolean;
  validateFailures?: boolean;
  threshold?: number;
  force?: boolean;
  json?: boolean;
  progress: boolean;
}

function shortExit(name: string): string {
  return name.replace('device-', 'd').replace('edge-', 'e:');
}

/** One status line per epoch: loss/accuracy of every exit (`n/a` for a device exit that saw no captured view). */
export function formatEpoch(r: EpochReport): string {
  const exits = r.exits.map((e) => `${shortExit(e.exit)} ${e.samples === 0 ? 'n/a' : `${e.loss.toFixed(3)}/${(100 * e.accuracy).toFixed(0)}%`}`).join('  ');
  return r.validation === undefined ? exits : `${exits}  val ${(100 * r.validation).toFixed(1)}%`;
}

/** `ddnn train`: joint training of a DDNN, saved as a checkpoint directory. */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      'Train a DDNN jointly. Defaults come from the data: binary devices (1 ConvP of 4 filters, MP local exit) under a float cloud (a block shared by every device\'s features, the average of the live devices, one more block and a hidden layer; see recommendedTopology), ' +
        'validation hold-out, early stopping, cosine schedule, device drop-out (see recommendRecipe); --paper trains the paper\'s all-binary model and recipe',
    )
    .requiredOption('--data <dir>', 'dataset folder', pathFlag('--data'))
    .requiredOption('--out <dir>', 'checkpoint directory to write', pathFlag('--out'))
    .option('--paper', "the paper's topology (binary cloud of 2 ConvP x 16) and recipe (100 epochs, full batch, constant lr, no validation)")
    .option('--epochs <n>', 'maximum training epochs', intFlag('--epochs', 1))
    .option('--seed <n>', 'random seed', intFlag('--seed'))
    .option('--batch <n>', 'samples per step (>= training set = full batch)', intFlag('--batch', 1))
    .option('--lr <rate>', 'Adam learning rate', numberFlag('--lr', 1e-6, 1))
    .option('--validation <fraction>', 'fraction of the training split held out for validation (0 = none)', numberFlag('--validation', 0, 0.5))
    .option('--patience <n>', 'epochs without a better validation score before stopping (0 = never)', intFlag('--patience', 0))
    .option('--weight-average <decay>', 'decay of the moving average of the weights that is validated and saved (0 = the last step\'s weights)', numberFlag('--weight-average', 0, 0.99999))
    .option('--hidden-dropout <rate>', 'drop-out rate of the float hidden layers of the edge and cloud exits in training', numberFlag('--hidden-dropout', 0, 0.9))
    .option('--detach-device-exits', "the device exits read the devices' features without training them (only the upper tiers' losses do)")
    .option('--validate-failures', 'score validation over the intact model and every single dead device, half and half')
    .option('--device-blocks <n>', 'ConvP blocks per device', intFlag('--device-blocks', 1))
    .option('--device-filters <n>', 'filters per device ConvP block', intFlag('--device-filters', 1))
    .option('--local-agg <agg>', 'local aggregator MP | AP | CC', aggregatorFlag())
    .option('--cloud-agg <agg>', 'cloud aggregator MP | AP | CC', aggregatorFlag())
    .option('--devices <list>', 'views used as end devices, e.g. 0,1,2,3,4,5', listFlag('--devices'))
    .option('--topology <file>', 'JSON topology (flags above override its fields)', pathFlag('--topology'))
    .option('--dropout <p>', 'probability that a training sample sees one random device failed', numberFlag('--dropout', 0, 1))
    .option('--each-dropout <p>', 'probability that each device, independently, is failed for a training sample', numberFlag('--each-dropout', 0, 0.9))
    .option('--threshold <T>', "the model's exit threshold (default: chosen on the validation split, else 0.8)", numberFlag('--threshold', 0, 1))
    .option('--force', 'replace a checkpoint already in the output folder (a folder holding anything else is never written into)')
    .option('--no-progress', 'one stderr line per epoch instead of a progress bar')
    .option('--json', 'print a JSON summary as the last line')
    .action(async (flags: TrainFlags) => {
      const { MultiBar, Presets } = await import('cli-progress');
      const { loadDataset, readDatasetHeader } = await import('@ddnn/datasets');
      const { checkCheckpointTarget, checkTrainingPlan, DEFAULT_THRESHOLD, ensureBackend, metricsAt, recommendedTopology, runModel, saveCheckpoint, schemeName, trainDdnn, trainingDataWarnings } = await import('@ddnn/ddnn');
      const { comparedToRaw } = await import('@ddnn/contracts');
      const out = resolve(flags.out);
      // Before training, not after it: a refused folder should not cost the run.
      await checkCheckpointTarget(out, { overwrite: flags.force });
      const dataDir = resolve(flags.data);
      // The manifest and labels decide whether the run can work at all (splits, views, memory) before the images,
      // which can take minutes and gigabytes, are read.
      const header = await readDatasetHeader(dataDir);
      const base = flags.paper ? undefined : recommendedTopology(header.manifest.views, header.manifest.classes.length);
      const topology = await topologyFromFlags(flags, base);
      const options = {
        paper: flags.paper,
        epochs: flags.epochs,
        seed: flags.seed,
        batchSize: flags.batch,
        learningRate: flags.lr,
        deviceDropout: flags.dropout,
        eachDeviceDropout: flags.eachDropout,
        validationFraction: flags.validation,
        patience: flags.patience,
        weightAverage: flags.weightAverage,
        hiddenDropout: flags.hiddenDropout,
        detachDeviceExits: flags.detachDeviceExits,
        validateFailures: flags.validateFailures,
      };
      checkTrainingPlan({ manifest: header.manifest, splits: header.rows.map((r) => r.split) }, topology, options, await ensureBackend(), true);
      const ds = await loadDataset(dataDir);
      for (const warning of trainingDataWarnings(ds, topology)) logger.warn(warning);
      // cli-progress draws nothing on a non-TTY stream: print one line per epoch there instead.
      const bar = flags.progress && process.stderr.isTTY ? new MultiBar({ stream: process.stderr, format: 'epoch {value}/{total} [{bar}] {eta_formatted} | {exits}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : null;
      const epochBar = bar?.create(flags.epochs ?? 100, 0, { exits: '' });
      const model = await trainDdnn(ds, topology, {
        ...options,
        onEpoch: (r) => {
          if (epochBar) {
            epochBar.setTotal(r.epochs);
            epochBar.update(r.epoch, { exits: formatEpoch(r) });
          }
          else log(`epoch ${r.epoch}/${r.epochs} (${r.seconds.toFixed(1)} s) ${formatEpoch(r)}`);
        },
      });
      bar?.stop();
      if (flags.threshold !== undefined) model.threshold = flags.threshold;
      const threshold = model.threshold ?? DEFAULT_THRESHOLD;
      const test = metricsAt(await runModel(model, ds), threshold);
      model.metrics = { test };
      await saveCheckpoint(out, model, { overwrite: flags.force });
      const t = model.training;
      const summary = {
        out,
        scheme: schemeName(topology),
        devices: topology.devices,
        epochs: t.epochs,
        threshold,
        recipe: t.recipe,
        validation: t.validation,
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
            `test (T=${threshold}): overall ${(100 * test.overall).toFixed(1)}% (each sample at the exit it took); each exit on all samples: local ${(100 * test.local).toFixed(1)}%, cloud ${(100 * test.cloud).toFixed(1)}%; ` +
            `local exits ${(100 * test.localExitRate).toFixed(1)}%, ${test.bytesPerSample.toFixed(1)} B/sample vs ${+test.rawBytesPerSample.toFixed(1)} B raw offload (${comparedToRaw(test.bytesPerSample, test.rawBytesPerSample)})\n`,
        );
    });
}
