import * as tf from '@tensorflow/tfjs';
import type { BatchStats } from '../layers/batchnorm';
import { forwardModel, type SectionTensors } from '../model/forward';
import type { Topology } from '../model/topology';
import { softmax } from '../entropy';
import { accuracy, crossEntropy, exitList } from './losses';
import { pickThreshold, type ExitProbabilities } from './threshold';
import { capturedMasks, type Batch } from './training-batch';

/** Sets every BatchNorm's mean/variance to the batch statistics of a training-mode pass over `batch`. */
export function calibrate(t: Topology, variables: Record<string, SectionTensors>, batch: Batch): void {
  const stats: { section: string; prefix: string; s: BatchStats }[] = [];
  tf.tidy(() => {
    forwardModel(t, variables, { views: batch.views, liveMasks: capturedMasks(batch) }, { training: true, onStats: (section, prefix, s) => stats.push({ section, prefix, s }) });
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
export function validate(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, failures: boolean): { score: number; loss: number } {
  const one = (dead: number): { score: number; loss: number } => {
    const [preds, losses] = tf.tidy(() => {
      const chosen = exitList(forwardModel(t, variables, { views: batch.views, liveMasks: capturedMasks(batch, dead) }, { training: false })).slice(t.devices.length);
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

/** Softmax rows of the local, edge (mean of the edges) and cloud exits, in inference mode, with `dead` failed. */
function exitProbabilities(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, dead: number): ExitProbabilities {
  let probs: ExitProbabilities = { local: [], edge: null, cloud: [] };
  tf.tidy(() => {
    const out = forwardModel(t, variables, { views: batch.views, liveMasks: capturedMasks(batch, dead) }, { training: false });
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
export function chooseThreshold(t: Topology, variables: Record<string, SectionTensors>, batch: Batch, failures: boolean): number {
  const configs = [-1, ...(failures && t.devices.length > 1 ? t.devices.map((_, i) => i) : [])];
  return pickThreshold(configs.map((dead) => exitProbabilities(t, variables, batch, dead)), batch.labelIdx);
}
