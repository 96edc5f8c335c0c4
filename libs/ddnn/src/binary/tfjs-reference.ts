import * as tf from '@tensorflow/tfjs';
import { batchNormInfer } from '../layers/batchnorm';
import { signOf } from '../layers/binarize';
import { BN_EPSILON } from '../layers/constants';
import type { BatchNormFormula } from './batch-norm';
import type { PoolPadding } from './pool-geometry';
import { firstBlockIndex, type SectionWeights } from './section-weights';

/** Options of the float (tfjs) reference of a binary section. */
export interface ReferenceOptions {
  blocks: number;
  poolStride: number;
  poolPadding: PoolPadding;
  batchNorm: BatchNormFormula;
}

function param(weights: SectionWeights, name: string): tf.Tensor {
  const t = weights[name];
  if (!t) throw new Error(`section weights: missing tensor "${name}"`);
  return tf.tensor(t.values, t.shape, 'float32');
}

function norm(x: tf.Tensor, weights: SectionWeights, prefix: string, formula: BatchNormFormula): tf.Tensor {
  const [g, b, m, v] = ['gamma', 'beta', 'mean', 'variance'].map((p) => param(weights, `${prefix}.bn.${p}`) as tf.Tensor1D);
  return formula === 'layers' ? batchNormInfer(x, g, b, m, v) : tf.batchNorm(x, m, v, b, g, BN_EPSILON);
}

/**
 * The section computed with tfjs float ops on the current backend: conv2d on sign(w), max-pool,
 * BatchNorm, sign; then sign(w) matMul and BatchNorm. Input [N, H, W, C] (float or +-1); returns the
 * scores [N, |C|] and the last +-1 map [N, H', W', f]. The ground truth the bit-packed kernels match.
 */
export function referenceSection(input: tf.Tensor4D, weights: SectionWeights, options: ReferenceOptions): { scores: tf.Tensor2D; features: tf.Tensor4D } {
  return tf.tidy(() => {
    const first = firstBlockIndex(weights);
    let x: tf.Tensor4D = input;
    for (let b = 0; b < options.blocks; b++) {
      const name = `convp${first + b}`;
      const conv = tf.conv2d(x, signOf(param(weights, `${name}.w`)) as tf.Tensor4D, 1, 1);
      const pooled = tf.maxPool(conv, 3, options.poolStride, options.poolPadding);
      x = signOf(norm(pooled, weights, name, options.batchNorm)) as tf.Tensor4D;
    }
    const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
    const logits = tf.matMul(flat, signOf(param(weights, 'fc.w')) as tf.Tensor2D);
    return { scores: norm(logits, weights, 'fc', options.batchNorm) as tf.Tensor2D, features: x };
  });
}
