import * as tf from '@tensorflow/tfjs';
import { Rng, type MultiViewDataset } from '@ddnn/datasets';
import { ensureBackend } from '../backend';
import type { BatchStats } from '../layers/batchnorm';
import { BN_EPSILON } from '../layers/constants';
import { prepareWeightGradInput } from '../layers/conv';
import { forwardModel, type ExitScores, type SectionTensors } from '../model/forward';
import type { DdnnModel, ExitMetric } from '../model/model';
import { initialValues, sectionSpecs, type SectionValues } from '../model/params';
import { sectionNames, topologyShapes, type Topology } from '../model/topology';
import { gatherPresent, gatherView, splitIndices } from './batches';

export interface TrainOptions {
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
  /** Called after every epoch with that epoch's per-exit training loss and accuracy. */
  onEpoch?: (report: EpochReport) => void;
  datasetName?: string;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  seconds: number;
  exits: ExitMetric[];
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

function makeBatch(ds: MultiViewDataset, t: Topology, indices: number[], forTraining: boolean): Batch {
  const { height, width, channels } = ds.manifest;
  const labelIdx = Int32Array.from(indices, (n) => ds.labels[n]);
  const views = t.devices.map((v) => tf.tensor4d(gatherView(ds, indices, v), [indices.length, height, width, channels]));
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

/** The paper's training recipe: what trainDdnn uses where an option is not given (batch 700 >= 680 samples = full batch). */
export const TRAIN_DEFAULTS = { epochs: 100, seed: 1, learningRate: 1e-3, deviceDropout: 0.1, batchSize: 700 } as const;

/**
 * Trains a DDNN jointly: loss = sum over exits of weight * softmax cross-entropy (device exits skip missing views),
 * Adam, real weights clipped to [-1, 1] after each step. Deterministic for a seed on a given backend. Afterwards the
 * BatchNorm inference statistics are the exact batch statistics of the final weights over the whole training set.
 */
export async function trainDdnn(ds: MultiViewDataset, topology: Topology, options: TrainOptions = {}): Promise<DdnnModel> {
  const backend = await ensureBackend();
  const epochs = options.epochs ?? TRAIN_DEFAULTS.epochs;
  const seed = options.seed ?? TRAIN_DEFAULTS.seed;
  const lr = options.learningRate ?? TRAIN_DEFAULTS.learningRate;
  const dropout = options.deviceDropout ?? TRAIN_DEFAULTS.deviceDropout;
  const m = ds.manifest;
  if (m.classes.length < 2) throw new Error('training needs at least 2 classes');
  const shapes = topologyShapes(topology, [m.height, m.width, m.channels], m.classes.length);
  const specs = sectionSpecs(topology, shapes);
  const rng = new Rng(seed, 0xdd);
  const trainIdx = splitIndices(ds, 'train');
  if (trainIdx.length === 0) throw new Error('the dataset has no training samples');
  const batchSize = Math.min(options.batchSize ?? TRAIN_DEFAULTS.batchSize, trainIdx.length);

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
  const optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-8);
  const fullBatch = batchSize >= trainIdx.length ? makeBatch(ds, topology, trainIdx, true) : null;
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  let last: ExitMetric[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = Date.now();
      const order = fullBatch ? trainIdx : rng.shuffle([...trainIdx]);
      const sums = names.map(() => ({ loss: 0, hit: 0, count: 0 }));
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = fullBatch ?? makeBatch(ds, topology, order.slice(start, start + batchSize), true);
        const masks = dropoutMasks(batch.size, topology.devices.length, dropout, rng);
        let kept: { losses: tf.Scalar[]; preds: tf.Tensor1D[] } | null = null;
        optimizer.minimize(
          () => {
            const out = exitList(forwardModel(topology, variables, { views: batch.views, prepared: batch.prepared, liveMasks: masks }, { training: true }));
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
      options.onEpoch?.({ epoch, epochs, seconds: (Date.now() - epochStart) / 1000, exits: last });
    }
    const secondsTotal = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const calibration = fullBatch ?? makeBatch(ds, topology, trainIdx, false);
    calibrate(topology, variables, calibration);
    if (!fullBatch) disposeBatch(calibration);

    const sections = new Map<string, SectionValues>();
    for (const spec of specs) {
      const values: SectionValues = new Map();
      for (const p of spec.params) values.set(p.name, { shape: p.shape, data: Float32Array.from(variables[spec.name][p.name].dataSync()) });
      sections.set(spec.name, values);
    }
    return {
      architecture: { input: shapes.input, binarization: 'sign(x>=0 -> +1), hard-tanh STE', convp: 'conv3x3 s1 p1 -> maxpool3x3 p1 (s2 device/edge, s1 cloud) -> BN -> sign', batchNormEpsilon: BN_EPSILON },
      topology,
      classes: [...m.classes],
      training: {
        epochs,
        batchSize,
        seed,
        learningRate: lr,
        deviceDropout: dropout,
        trainSamples: trainIdx.length,
        secondsTotal,
        secondsPerEpoch: secondsTotal / Math.max(1, epochs),
        cpuSecondsPerEpoch: (cpu.user + cpu.system) / 1e6 / Math.max(1, epochs),
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
