import * as tf from '@tensorflow/tfjs';
import { Rng, type MultiViewDataset } from '@ddnn/datasets';
import { ensureBackend } from '../backend';
import { BN_EPSILON } from '../layers/constants';
import { DEFAULT_THRESHOLD, type DdnnModel, type ExitMetric } from '../model/model';
import { sectionSpecs } from '../model/params';
import { topologyShapes, type Topology } from '../model/topology';
import { splitIndices } from './batches';
import { EpochChoice } from './epoch-choice';
import { learningRateAt, resolveRecipe, type TrainOptions } from './options';
import { checkTrainingPlan } from './plan';
import { splitValidation } from './recipe';
import { trainEpoch, type StepLoop } from './step-loop';
import { disposeBatch, makeBatch } from './training-batch';
import { calibrate, chooseThreshold, validate } from './validation';
import { createVariables, disposeVariables, restoreSnapshot, sectionValues, snapshot } from './variables';
import { WeightAverage } from './weight-average';

/** Training samples whose batch statistics set the averaged weights' BatchNorm before each validation. */
const EPOCH_CALIBRATION_SAMPLES = 256;

/**
 * Trains a DDNN jointly (the steps: `trainEpoch`) with the recipe's schedule, weight average, validation, early
 * stopping and kept epoch (`EpochChoice`), then the threshold from validation. Deterministic for a seed on a given
 * backend. Afterwards the BatchNorm inference statistics are the exact batch statistics of the kept weights over
 * the whole training set.
 */
export async function trainDdnn(ds: MultiViewDataset, topology: Topology, options: TrainOptions = {}): Promise<DdnnModel> {
  const backend = await ensureBackend();
  const recipe = resolveRecipe(ds, options);
  const { epochs, seed, deviceDropout: dropout } = recipe;
  const m = ds.manifest;
  checkTrainingPlan(ds, topology, options, backend);
  const shapes = topologyShapes(topology, [m.height, m.width, m.channels], m.classes.length);
  const specs = sectionSpecs(topology, shapes);
  const rng = new Rng(seed, 0xdd);
  const { train: trainIdx, validation: valIdx } = splitValidation(ds, splitIndices(ds, 'train'), recipe.validationFraction, seed);
  if (trainIdx.length === 0) throw new Error('the dataset has no training samples');
  const batchSize = Math.min(recipe.batchSize, trainIdx.length);
  const augment = recipe.augment && (recipe.augment.flip || (recipe.augment.shift ?? 0) > 0) ? { spec: recipe.augment, rng: new Rng(seed, 0xa9) } : undefined;

  const vars = createVariables(specs, rng);
  const optimizer = tf.train.adam(recipe.learningRate, 0.9, 0.999, 1e-8);
  // With augmentation even a full batch changes every epoch, so it is rebuilt.
  const isFullBatch = batchSize >= trainIdx.length;
  const fullBatch = isFullBatch && !augment ? makeBatch(ds, topology, trainIdx, true) : null;
  const valBatch = valIdx.length ? makeBatch(ds, topology, valIdx, false) : null;
  const average = recipe.weightAverage ? new WeightAverage(vars.trainable, recipe.weightAverage) : null;
  // The averaged weights were never run forward, so their BatchNorm statistics are measured before each validation
  // on a fixed slice of the training split (the whole split once training ends).
  const averageCalibration = average && valBatch ? (fullBatch ?? makeBatch(ds, topology, trainIdx.slice(0, EPOCH_CALIBRATION_SAMPLES), false)) : null;
  const loop: StepLoop = {
    ds,
    topology,
    vars,
    optimizer,
    batchSize,
    fullBatch,
    augment,
    deviceDropout: dropout,
    eachDeviceDropout: recipe.eachDeviceDropout ?? 0,
    rng,
    hiddenDropout: recipe.hiddenDropout ? { rate: recipe.hiddenDropout, rng: new Rng(seed, 0xd9) } : undefined,
    detachDeviceExits: recipe.detachDeviceExits === true,
    average,
    // Without an average, validation between epochs runs the live weights on running BatchNorm statistics.
    runningStats: valBatch && !average ? { momentum: isFullBatch ? 0 : 0.9 } : null,
  };
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  const choice = new EpochChoice(valIdx.length);
  let last: ExitMetric[] = [];
  let epochsRun = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = Date.now();
      const lr = learningRateAt(recipe, epoch);
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      last = trainEpoch(loop, isFullBatch ? trainIdx : rng.shuffle([...trainIdx]));
      epochsRun = epoch;
      let validation: number | undefined;
      if (valBatch) {
        const live = average?.swapIn();
        if (averageCalibration) calibrate(topology, vars.bySection, averageCalibration);
        const v = validate(topology, vars.bySection, valBatch, recipe.validateFailures === true);
        validation = v.score;
        choice.record(epoch, v, () => snapshot(vars));
        if (live) average?.restore(live);
      }
      options.onEpoch?.({ epoch, epochs, seconds: (Date.now() - epochStart) / 1000, exits: last, validation, learningRate: lr });
      if (choice.patienceRunOut(epoch, recipe.patience)) break;
    }
    const chosen = choice.chosen;
    if (chosen) restoreSnapshot(chosen.values);
    // No validation to pick an epoch: the average at the end of the run is the model.
    else if (average) tf.dispose([...average.swapIn().values()]);
    const secondsTotal = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const calibration = fullBatch ?? makeBatch(ds, topology, trainIdx, false);
    calibrate(topology, vars.bySection, calibration);
    if (!fullBatch) disposeBatch(calibration);
    const threshold = valBatch ? chooseThreshold(topology, vars.bySection, valBatch, dropout > 0 || (recipe.eachDeviceDropout ?? 0) > 0) : undefined;

    return {
      architecture: {
        input: shapes.input,
        binarization: 'sign(x>=0 -> +1), hard-tanh STE',
        convp: 'conv3x3 s1 p1 -> maxpool3x3 p1 (s2 device/edge, cloud poolStride) -> BN -> sign (binary) | ReLU (float; an edge ends in sign)',
        batchNormEpsilon: BN_EPSILON,
      },
      topology,
      classes: [...m.classes],
      threshold: threshold ?? DEFAULT_THRESHOLD,
      training: {
        epochs: epochsRun,
        batchSize,
        seed,
        learningRate: recipe.learningRate,
        deviceDropout: dropout,
        trainSamples: trainIdx.length,
        recipe: { ...recipe, batchSize },
        ...(valBatch && chosen ? { validation: { samples: valIdx.length, bestEpoch: chosen.epoch, score: chosen.score, stoppedEarly: epochsRun < epochs, threshold: threshold ?? DEFAULT_THRESHOLD } } : {}),
        secondsTotal,
        secondsPerEpoch: secondsTotal / Math.max(1, epochsRun),
        cpuSecondsPerEpoch: (cpu.user + cpu.system) / 1e6 / Math.max(1, epochsRun),
        backend,
        dataset: options.datasetName ?? m.name,
        finishedAt: new Date().toISOString(),
        finalExits: last,
      },
      metrics: {},
      sections: sectionValues(specs, vars),
    };
  } finally {
    if (fullBatch) disposeBatch(fullBatch);
    if (valBatch) disposeBatch(valBatch);
    if (averageCalibration && averageCalibration !== fullBatch) disposeBatch(averageCalibration);
    average?.dispose();
    optimizer.dispose();
    disposeVariables(vars);
  }
}
