import * as tf from '@tensorflow/tfjs';
import { Rng, type Augmentation, type MultiViewDataset } from '@ddnn/datasets';
import { ensureBackend } from '../backend';
import type { BatchStats } from '../layers/batchnorm';
import { BN_EPSILON } from '../layers/constants';
import { prepareWeightGradInput } from '../layers/conv';
import { forwardModel, type ExitScores, type SectionTensors } from '../model/forward';
import { DEFAULT_THRESHOLD, type DdnnModel, type ExitMetric } from '../model/model';
import { softmax } from '../entropy';
import { initialValues, sectionSpecs, type SectionValues } from '../model/params';
import { sectionNames, topologyShapes, type Topology } from '../model/topology';
import { gatherPresent, gatherView, splitIndices } from './batches';
import { augmentViews, recommendRecipe, PAPER_RECIPE, profileOf, splitValidation, type TrainingRecipe } from './recipe';
import { oneStandardError, pickThreshold, type ExitProbabilities } from './threshold';
import { WeightAverage } from './weight-average';

/** Anything not given comes from `recommendRecipe` (the data's defaults), or from PAPER_RECIPE with `paper`. */
export interface TrainOptions {
  /** Start from the paper's recipe (full batch, constant lr, no validation) instead of the data's defaults. */
  paper?: boolean;
  epochs?: number;
  /** Samples per step; anything >= the training set is full batch (the paper: 700 on 680). */
  batchSize?: number;
  seed?: number;
  learningRate?: number;
  /**
   * Probability that a training sample is seen with one random device failed (zero features to the cloud, no
   * scores to the local aggregator), so the upper tiers learn the failure case. 0 disables it.
   */
  deviceDropout?: number;
  /** Fraction of the training split held out for validation (early stopping, best epoch, threshold); 0 = none. */
  validationFraction?: number;
  /** Epochs without a better validation score before stopping; 0 = never stop early. */
  patience?: number;
  schedule?: TrainingRecipe['schedule'];
  /** Overrides the dataset manifest's augmentation (null = none). */
  augment?: Augmentation | null;
  /** Decay of the moving average of the weights that is validated and kept (0 = the last step's weights). */
  weightAverage?: number;
  /** Drop-out rate of the float hidden layers of the edge and cloud exits in training. */
  hiddenDropout?: number;
  /** Score validation epochs over the intact model and every single dead device (see `validate`). */
  validateFailures?: boolean;
  /** Called after every epoch with that epoch's per-exit training loss and accuracy. */
  onEpoch?: (report: EpochReport) => void;
  datasetName?: string;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  seconds: number;
  exits: ExitMetric[];
  /** Validation score (mean accuracy of the local, edge and cloud exits) when there is a validation split. */
  validation?: number;
  learningRate: number;
}

interface Batch {
  size: number;
  views: tf.Tensor4D[];
  prepared: tf.Tensor4D[];
  labels: tf.Tensor2D;
  labelIdx: Int32Array;
  present: tf.Tensor1D[];
  presentRaw: Float32Array[];
}

function makeBatch(ds: MultiViewDataset, t: Topology, indices: number[], forTraining: boolean, augment?: { spec: Augmentation; rng: Rng }): Batch {
  const { height, width, channels } = ds.manifest;
  const labelIdx = Int32Array.from(indices, (n) => ds.labels[n]);
  const views = t.devices.map((v) => {
    const data = gatherView(ds, indices, v);
    if (augment) augmentViews(data, indices.length, [height, width, channels], augment.spec, augment.rng);
    return tf.tensor4d(data, [indices.length, height, width, channels]);
  });
  const presentRaw = t.devices.map((v) => gatherPresent(ds, indices, v));
  return {
    size: indices.length,
    views,
    prepared: forTraining ? views.map((x) => prepareWeightGradInput(x)) : [],
    labels: tf.tidy(() => tf.oneHot(tf.tensor1d(labelIdx, 'int32'), ds.manifest.classes.length).toFloat() as tf.Tensor2D),
    labelIdx,
    present: presentRaw.map((p) => tf.tensor1d(p)),
    presentRaw,
  };
}

/** Training samples whose batch statistics set the averaged weights' BatchNorm before each validation. */
const EPOCH_CALIBRATION_SAMPLES = 256;

// tfjs variable names must be unique per process; several models may train in one process.
let variableSerial = 0;

function disposeBatch(b: Batch): void {
  tf.dispose([...b.views, ...b.prepared, ...b.present, b.labels]);
}

/** Per-sample softmax cross-entropy [N]. */
function crossEntropy(scores: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(scores)), 1)) as tf.Tensor1D;
}

/** Mean over the samples where mask is 1 (0 when none). */
function maskedMean(v: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
  return tf.div(tf.sum(tf.mul(v, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Exits in checkpoint order: one per section. */
const exitNames = sectionNames;

function exitList(scores: ExitScores): tf.Tensor2D[] {
  return [...scores.devices, scores.local, ...scores.edges, scores.cloud];
}

function dropoutMasks(size: number, devices: number, p: number, rng: Rng): tf.Tensor2D[] | null {
  if (p <= 0 || devices < 2) return null;
  const masks = Array.from({ length: devices }, () => new Float32Array(size).fill(1));
  for (let i = 0; i < size; i++) if (rng.chance(p)) masks[rng.int(devices)][i] = 0;
  return masks.map((m) => tf.tensor2d(m, [size, 1]));
}

function accuracy(pred: Int32Array | Float32Array | Uint8Array, labels: Int32Array, mask?: Float32Array): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (mask && !mask[i]) continue;
    total++;
    if (pred[i] === labels[i]) hit++;
  }
  return total ? hit / total : 0;
}

/** The paper's recipe (batch 700 >= 680 samples = full batch); `ddnn train --paper` starts from it. */
export const TRAIN_DEFAULTS = PAPER_RECIPE;

/** Learning rate of an epoch (1-based): constant, or cosine from lr down to lr/20 over the run. */
export function learningRateAt(recipe: Pick<TrainingRecipe, 'learningRate' | 'schedule' | 'epochs'>, epoch: number): number {
  if (recipe.schedule === 'constant' || recipe.epochs <= 1) return recipe.learningRate;
  const progress = (epoch - 1) / (recipe.epochs - 1);
  const floor = recipe.learningRate / 20;
  return floor + (recipe.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The recipe a training run uses: the options over the data's defaults (or the paper's). */
export function resolveRecipe(ds: MultiViewDataset, options: TrainOptions = {}): TrainingRecipe {
  const base = options.paper ? PAPER_RECIPE : recommendRecipe(profileOf(ds));
  const pick = <K extends keyof TrainingRecipe>(k: K, v: TrainingRecipe[K] | undefined): TrainingRecipe[K] => (v === undefined ? base[k] : v);
  return {
    epochs: pick('epochs', options.epochs),
    batchSize: pick('batchSize', options.batchSize),
    seed: pick('seed', options.seed),
    learningRate: pick('learningRate', options.learningRate),
    schedule: pick('schedule', options.schedule),
    deviceDropout: pick('deviceDropout', options.deviceDropout),
    validationFraction: pick('validationFraction', options.validationFraction),
    patience: pick('patience', options.patience),
    augment: options.augment === undefined ? base.augment : options.augment,
    weightAverage: options.weightAverage ?? base.weightAverage ?? 0,
    hiddenDropout: options.hiddenDropout ?? base.hiddenDropout ?? 0,
    validateFailures: options.validateFailures ?? base.validateFailures ?? false,
  };
}

/**
 * Trains a DDNN jointly: loss = sum over exits of weight * softmax cross-entropy (device exits skip missing views),
 * Adam, real weights clipped to [-1, 1] after each step. Deterministic for a seed on a given backend. Afterwards the
 * BatchNorm inference statistics are the exact batch statistics of the final weights over the whole training set.
 */
export async function trainDdnn(ds: MultiViewDataset, topology: Topology, options: TrainOptions = {}): Promise<DdnnModel> {
  const backend = await ensureBackend();
  const recipe = resolveRecipe(ds, options);
  const { epochs, seed, deviceDropout: dropout } = recipe;
  const m = ds.manifest;
  if (m.classes.length < 2) throw new Error('training needs at least 2 classes');
  const shapes = topologyShapes(topology, [m.height, m.width, m.channels], m.classes.length);
  const specs = sectionSpecs(topology, shapes);
  const rng = new Rng(seed, 0xdd);
  const { train: trainIdx, validation: valIdx } = splitValidation(ds, splitIndices(ds, 'train'), recipe.validationFraction, seed);
  if (trainIdx.length === 0) throw new Error('the dataset has no training samples');
  const batchSize = Math.min(recipe.batchSize, trainIdx.length);
  const hiddenDropout = recipe.hiddenDropout ? { rate: recipe.hiddenDropout, rng: new Rng(seed, 0xd9) } : undefined;
  const augment = recipe.augment && (recipe.augment.flip || (recipe.augment.shift ?? 0) > 0) ? { spec: recipe.augment, rng: new Rng(seed, 0xa9) } : undefined;

  const variables: Record<string, SectionTensors> = {};
  const binaryVars: tf.Variable[] = [];
  const trainable: tf.Variable[] = [];
  for (const spec of specs) {
    const init = initialValues(spec, rng);
    variables[spec.name] = {};
    for (const p of spec.params) {
      const isTrainable = p.kind !== 'mean' && p.kind !== 'variance';
      const v = tf.variable(tf.tensor(init.get(p.name)!.data, p.shape), isTrainable, `ddnn${++variableSerial}/${spec.name}/${p.name}`);
      variables[spec.name][p.name] = v;
      if (isTrainable) trainable.push(v);
      if (p.kind === 'binary') binaryVars.push(v);
    }
  }

  const names = exitNames(topology);
  const weights = [...topology.devices.map(() => topology.exitWeights.device), topology.exitWeights.local, ...topology.edges.map(() => topology.exitWeights.edge), topology.exitWeights.cloud];
  const optimizer = tf.train.adam(recipe.learningRate, 0.9, 0.999, 1e-8);
  // With augmentation even a full batch changes every epoch, so it is rebuilt.
  const isFullBatch = batchSize >= trainIdx.length;
  const fullBatch = isFullBatch && !augment ? makeBatch(ds, topology, trainIdx, true) : null;
  const valBatch = valIdx.length ? makeBatch(ds, topology, valIdx, false) : null;
  const average = recipe.weightAverage ? new WeightAverage(trainable, recipe.weightAverage) : null;
  // The averaged weights were never run forward, so their BatchNorm statistics are measured before each validation
  // on a fixed slice of the training split (the whole split once training ends).
  const averageCalibration = average && valBatch ? (fullBatch ?? makeBatch(ds, topology, trainIdx.slice(0, EPOCH_CALIBRATION_SAMPLES), false)) : null;
  // Without an average: running BatchNorm statistics for validation between epochs (a full batch's own are exact).
  const momentum = isFullBatch ? 0 : 0.9;
  const upperExits = names.map((n, i) => (n.startsWith('device-') ? -1 : i)).filter((i) => i >= 0);
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  let last: ExitMetric[] = [];
  // `best`: the best validation score so far (early stopping counts from it). `chosen`: the latest epoch whose score
  // is within one standard error of the best (oneStandardError), whose weights become the model: the validation
  // split cannot tell such epochs apart, and the later one has trained longer at a lower learning rate. Only one
  // snapshot is needed: a new best is itself the latest epoch within the error.
  let best: { epoch: number; score: number; loss: number } | null = null;
  let chosen: { epoch: number; score: number; values: Map<tf.Variable, Float32Array> } | null = null;
  let epochsRun = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = Date.now();
      const lr = learningRateAt(recipe, epoch);
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const order = isFullBatch ? trainIdx : rng.shuffle([...trainIdx]);
      const sums = names.map(() => ({ loss: 0, hit: 0, count: 0 }));
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = fullBatch ?? makeBatch(ds, topology, order.slice(start, start + batchSize), true, augment);
        const masks = dropoutMasks(batch.size, topology.devices.length, dropout, rng);
        let kept: { losses: tf.Scalar[]; preds: tf.Tensor1D[] } | null = null;
        const stats: { section: string; prefix: string; s: BatchStats }[] = [];
        const onStats = valBatch && !average ? (section: string, prefix: string, st: BatchStats) => stats.push({ section, prefix, s: st }) : undefined;
        optimizer.minimize(
          () => {
            const out = exitList(forwardModel(topology, variables, { views: batch.views, prepared: batch.prepared, liveMasks: masks }, { training: true, onStats, hiddenDropout }));
            const losses = out.map((s, i) => {
              const ce = crossEntropy(s, batch.labels);
              return i < topology.devices.length ? maskedMean(ce, batch.present[i]) : (tf.mean(ce) as tf.Scalar);
            });
            kept = { losses: losses.map((l) => tf.keep(l)), preds: out.map((s) => tf.keep(tf.argMax(s, 1) as tf.Tensor1D)) };
            return tf.addN(losses.map((l, i) => tf.mul(l, weights[i]))) as tf.Scalar;
          },
          false,
          trainable,
        );
        tf.tidy(() => binaryVars.forEach((v) => v.assign(tf.clipByValue(v, -1, 1))));
        average?.update();
        for (const { section, prefix, s: st } of stats) {
          tf.tidy(() => {
            const mean = variables[section][`${prefix}.bn.mean`] as tf.Variable;
            const variance = variables[section][`${prefix}.bn.variance`] as tf.Variable;
            mean.assign(momentum ? tf.add(tf.mul(mean, momentum), tf.mul(st.mean, 1 - momentum)) : st.mean);
            variance.assign(momentum ? tf.add(tf.mul(variance, momentum), tf.mul(st.variance, 1 - momentum)) : st.variance);
          });
          tf.dispose([st.mean, st.variance]);
        }
        const k = kept as unknown as { losses: tf.Scalar[]; preds: tf.Tensor1D[] };
        k.losses.forEach((l, i) => {
          const isDevice = i < topology.devices.length;
          const mask = isDevice ? batch.presentRaw[i] : undefined;
          const n = mask ? mask.reduce((a, b) => a + b, 0) : batch.size;
          const pred = k.preds[i].dataSync() as Int32Array;
          sums[i].loss += l.dataSync()[0] * n;
          sums[i].hit += accuracy(pred, batch.labelIdx, mask) * n;
          sums[i].count += n;
        });
        tf.dispose([...k.losses, ...k.preds]);
        if (masks) tf.dispose(masks);
        if (!fullBatch) disposeBatch(batch);
      }
      last = names.map((exit, i) => ({ exit, loss: sums[i].count ? sums[i].loss / sums[i].count : 0, accuracy: sums[i].count ? sums[i].hit / sums[i].count : 0 }));
      epochsRun = epoch;
      let validation: number | undefined;
      if (valBatch) {
        const live = average?.swapIn();
        if (averageCalibration) calibrate(topology, variables, averageCalibration);
        const v = validate(topology, variables, valBatch, upperExits, recipe.validateFailures === true);
        validation = v.score;
        if (!best || v.score > best.score || (v.score === best.score && v.loss <= best.loss)) best = { epoch, score: v.score, loss: v.loss };
        if (v.score >= best.score - oneStandardError(best.score, valIdx.length) - 1e-9) {
          chosen = { epoch, score: v.score, values: new Map(Object.values(variables).flatMap((sec) => Object.values(sec)).map((t) => [t as tf.Variable, Float32Array.from(t.dataSync())])) };
        }
        if (live) average?.restore(live);
      }
      options.onEpoch?.({ epoch, epochs, seconds: (Date.now() - epochStart) / 1000, exits: last, validation, learningRate: lr });
      if (best && recipe.patience > 0 && epoch - best.epoch >= recipe.patience) break;
    }
    if (chosen) for (const [v, data] of chosen.values) v.assign(tf.tensor(data, v.shape));
    // No validation to pick an epoch: the average at the end of the run is the model.
    else if (average) tf.dispose([...average.swapIn().values()]);
    const secondsTotal = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const calibration = fullBatch ?? makeBatch(ds, topology, trainIdx, false);
    calibrate(topology, variables, calibration);
    if (!fullBatch) disposeBatch(calibration);
    const threshold = valBatch ? chooseThreshold(topology, variables, valBatch, dropout > 0) : undefined;

    const sections = new Map<string, SectionValues>();
    for (const spec of specs) {
      const values: SectionValues = new Map();
      for (const p of spec.params) values.set(p.name, { shape: p.shape, data: Float32Array.from(variables[spec.name][p.name].dataSync()) });
      sections.set(spec.name, values);
    }
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
      sections,
    };
  } finally {
    if (fullBatch) disposeBatch(fullBatch);
    if (valBatch) disposeBatch(valBatch);
    if (averageCalibration && averageCalibration !== fullBatch) disposeBatch(averageCalibration);
    average?.dispose();
    optimizer.dispose();
    Object.values(variables).forEach((s) => Object.values(s).forEach((v) => v.dispose()));
  }
}

/** Sets every BatchNorm's mean/variance to the batch statistics of a training-mode pass over `batch`. */
function calibrate(t: Topology, variables: Record<string, SectionTensors>, batch: Batch): void {
  const stats: { section: string; prefix: string; s: BatchStats }[] = [];
  tf.tidy(() => {
    forwardModel(t, variables, { views: batch.views }, { training: true, onStats: (section, prefix, s) => stats.push({ section, prefix, s }) });
  });
  for (const { section, prefix, s } of stats) {
    (variables[section][`${prefix}.bn.mean`] as tf.Variable).assign(s.mean);
    (variables[section][`${prefix}.bn.variance`] as tf.Variable).assign(s.variance);
    tf.dispose([s.mean, s.variance]);
  }
}

/**
 * Validation score: mean accuracy of the upper exits (local, edges, cloud) in inference mode; loss breaks ties.
 * With `failures`, the score is half the intact model's and half the mean over every single dead device (no scores,
 * zero features: what inference with a failed device does), so the kept epoch is one that degrades gracefully, and
 * seven passes over the hold-out make the score less coarse than one.
 */
function validate(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, upper: number[], failures: boolean): { score: number; loss: number } {
  const one = (dead: number): { score: number; loss: number } => {
    const [preds, losses] = tf.tidy(() => {
      const out = exitList(forwardModel(t, variables, { views: batch.views, liveMasks: deadDeviceMasks(t, batch.size, dead) }, { training: false }));
      const chosen = upper.map((i) => out[i]);
      return [chosen.map((s) => tf.argMax(s, 1).dataSync() as Int32Array), chosen.map((s) => tf.mean(crossEntropy(s, batch.labels)).dataSync()[0])];
    });
    return { score: preds.reduce((a, p) => a + accuracy(p, batch.labelIdx), 0) / preds.length, loss: losses.reduce((a, b) => a + b, 0) };
  };
  const intact = one(-1);
  if (!failures || t.devices.length < 2) return intact;
  const dead = t.devices.map((_, i) => one(i));
  const mean = (f: (r: { score: number; loss: number }) => number) => dead.reduce((a, r) => a + f(r), 0) / dead.length;
  return { score: (intact.score + mean((r) => r.score)) / 2, loss: (intact.loss + mean((r) => r.loss)) / 2 };
}

/** Per device [N,1] live masks with device `dead` failed (all live, null, for -1). */
function deadDeviceMasks(t: Topology, size: number, dead: number): tf.Tensor2D[] | null {
  return dead < 0 ? null : t.devices.map((_, i) => tf.fill([size, 1], i === dead ? 0 : 1) as tf.Tensor2D);
}

/** Softmax rows of the local, edge (mean of the edges) and cloud exits, in inference mode, with `dead` failed. */
function exitProbabilities(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, dead: number): ExitProbabilities {
  let probs: ExitProbabilities = { local: [], edge: null, cloud: [] };
  tf.tidy(() => {
    const out = forwardModel(t, variables, { views: batch.views, liveMasks: deadDeviceMasks(t, batch.size, dead) }, { training: false });
    const rowsOf = (x: tf.Tensor2D) => {
      const [n, c] = x.shape;
      const d = x.dataSync() as Float32Array;
      return Array.from({ length: n }, (_, i) => softmax(d.subarray(i * c, (i + 1) * c)));
    };
    const edges = out.edges.map(rowsOf);
    const edgeMean = edges.length ? edges[0].map((_, i) => Float32Array.from(edges[0][i], (_, c) => edges.reduce((a, e) => a + e[i][c], 0) / edges.length)) : null;
    probs = { local: rowsOf(out.local), edge: edgeMean, cloud: rowsOf(out.cloud) };
  });
  return probs;
}

/**
 * The model's exit threshold from the validation split (see `pickThreshold`); with `failures` (a model trained with
 * device drop-out, so for a world where devices die) over every single dead device too.
 */
function chooseThreshold(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, failures: boolean): number {
  const configs = [-1, ...(failures && t.devices.length > 1 ? t.devices.map((_, i) => i) : [])];
  return pickThreshold(configs.map((dead) => exitProbabilities(t, variables, batch, dead)), batch.labelIdx);
}
