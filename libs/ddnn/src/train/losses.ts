import * as tf from '@tensorflow/tfjs';
import type { ExitScores } from '../model/forward';
import type { Topology } from '../model/topology';

/** Per-sample softmax cross-entropy [N]. */
export function crossEntropy(scores: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(scores)), 1)) as tf.Tensor1D;
}

/** Mean over the samples where mask is 1 (0 when none). */
export function maskedMean(v: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
  return tf.div(tf.sum(tf.mul(v, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** Share of the samples (where mask is 1, if given) whose prediction is their label; 0 when none count. */
export function accuracy(pred: Int32Array | Float32Array | Uint8Array, labels: Int32Array, mask?: Float32Array): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    if (mask && !mask[i]) continue;
    total++;
    if (pred[i] === labels[i]) hit++;
  }
  return total ? hit / total : 0;
}

/** The exits' scores in checkpoint order (one per section, as `sectionNames`). */
export function exitList(scores: ExitScores): tf.Tensor2D[] {
  return [...scores.devices, scores.local, ...scores.edges, scores.cloud];
}

/** Loss weight of each exit of `exitList`, from the topology's exitWeights. */
export function exitLossWeights(t: Topology): number[] {
  const w = t.exitWeights;
  return [...t.devices.map(() => w.device), w.local, ...t.edges.map(() => w.edge), w.cloud];
}
