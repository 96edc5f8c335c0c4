import * as tf from '@tensorflow/tfjs';
import type { Augmentation, MultiViewDataset, Rng } from '@ddnn/datasets';
import type { BatchStats } from '../layers/batchnorm';
import { forwardModel, type ForwardMode } from '../model/forward';
import type { ExitMetric } from '../model/model';
import { sectionNames, type Topology } from '../model/topology';
import { liveMasks } from './dropout-masks';
import { accuracy, crossEntropy, exitLossWeights, exitList, maskedMean } from './losses';
import { disposeBatch, makeBatch, type Batch } from './training-batch';
import type { TrainingVariables } from './variables';
import type { WeightAverage } from './weight-average';

/** What one epoch of optimizer steps needs; the same object serves every epoch of a run. */
export interface StepLoop {
  ds: MultiViewDataset;
  topology: Topology;
  vars: TrainingVariables;
  optimizer: tf.Optimizer;
  batchSize: number;
  /** The whole training split as one batch, built once (full batch without augmentation); else batches per step. */
  fullBatch: Batch | null;
  augment?: { spec: Augmentation; rng: Rng };
  /** Probability that a sample sees one random device dead. */
  deviceDropout: number;
  /** Probability that each device independently is dead for a sample. */
  eachDeviceDropout: number;
  /** The run's generator: the drop-out masks here, each epoch's shuffle in the caller (one stream, so a seed replays the run). */
  rng: Rng;
  hiddenDropout?: ForwardMode['hiddenDropout'];
  detachDeviceExits: boolean;
  /** Folded after every step. */
  average: WeightAverage | null;
  /**
   * Momentum of the BatchNorm running statistics kept for validation between epochs (0: the step's own batch
   * statistics, exact for a full batch); null when nothing validates the live weights.
   */
  runningStats: { momentum: number } | null;
}

/**
 * One pass over `order` in steps of `batchSize`: loss = sum over exits of weight * softmax cross-entropy (device exits
 * skip missing views), Adam, the binary layers' real weights clipped to [-1, 1] after each step. Returns the epoch's
 * per-exit training loss and accuracy (training mode, with the drop-out the steps saw).
 */
export function trainEpoch(loop: StepLoop, order: number[]): ExitMetric[] {
  const { topology, vars, batchSize } = loop;
  const names = sectionNames(topology);
  const weights = exitLossWeights(topology);
  const sums = names.map(() => ({ loss: 0, hit: 0, count: 0 }));
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = loop.fullBatch ?? makeBatch(loop.ds, topology, order.slice(start, start + batchSize), true, loop.augment);
    const masks = liveMasks(batch.presentRaw, loop.deviceDropout, loop.eachDeviceDropout, loop.rng);
    let kept: { losses: tf.Scalar[]; preds: tf.Tensor1D[] } | null = null;
    const stats: { section: string; prefix: string; s: BatchStats }[] = [];
    const onStats = loop.runningStats ? (section: string, prefix: string, st: BatchStats) => stats.push({ section, prefix, s: st }) : undefined;
    loop.optimizer.minimize(
      () => {
        const mode = { training: true, onStats, hiddenDropout: loop.hiddenDropout, detachDeviceExits: loop.detachDeviceExits };
        const out = exitList(forwardModel(topology, vars.bySection, { views: batch.views, prepared: batch.prepared, liveMasks: masks }, mode));
        const losses = out.map((s, i) => {
          const ce = crossEntropy(s, batch.labels);
          return i < topology.devices.length ? maskedMean(ce, batch.present[i]) : (tf.mean(ce) as tf.Scalar);
        });
        kept = { losses: losses.map((l) => tf.keep(l)), preds: out.map((s) => tf.keep(tf.argMax(s, 1) as tf.Tensor1D)) };
        return tf.addN(losses.map((l, i) => tf.mul(l, weights[i]))) as tf.Scalar;
      },
      false,
      vars.trainable,
    );
    tf.tidy(() => vars.binary.forEach((v) => v.assign(tf.clipByValue(v, -1, 1))));
    loop.average?.update();
    if (loop.runningStats) foldRunningStats(vars, stats, loop.runningStats.momentum);
    const k = kept as unknown as { losses: tf.Scalar[]; preds: tf.Tensor1D[] };
    k.losses.forEach((l, i) => {
      const mask = i < topology.devices.length ? batch.presentRaw[i] : undefined;
      const n = mask ? mask.reduce((a, b) => a + b, 0) : batch.size;
      const pred = k.preds[i].dataSync() as Int32Array;
      sums[i].loss += l.dataSync()[0] * n;
      sums[i].hit += accuracy(pred, batch.labelIdx, mask) * n;
      sums[i].count += n;
    });
    tf.dispose([...k.losses, ...k.preds]);
    if (masks) tf.dispose(masks);
    if (!loop.fullBatch) disposeBatch(batch);
  }
  return names.map((exit, i) => ({ exit, loss: sums[i].count ? sums[i].loss / sums[i].count : 0, accuracy: sums[i].count ? sums[i].hit / sums[i].count : 0, samples: sums[i].count }));
}

/** Folds a step's batch statistics into the BatchNorm inference statistics (and disposes them). */
function foldRunningStats(vars: TrainingVariables, stats: { section: string; prefix: string; s: BatchStats }[], momentum: number): void {
  for (const { section, prefix, s } of stats) {
    tf.tidy(() => {
      const mean = vars.bySection[section][`${prefix}.bn.mean`] as tf.Variable;
      const variance = vars.bySection[section][`${prefix}.bn.variance`] as tf.Variable;
      mean.assign(momentum ? tf.add(tf.mul(mean, momentum), tf.mul(s.mean, 1 - momentum)) : s.mean);
      variance.assign(momentum ? tf.add(tf.mul(variance, momentum), tf.mul(s.variance, 1 - momentum)) : s.variance);
    });
    tf.dispose([s.mean, s.variance]);
  }
}
