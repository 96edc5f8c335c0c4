import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';
import { BN_EPSILON } from './constants';

/** Batch statistics a training-mode BatchNorm used, so they can become the inference statistics. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode BatchNorm over every axis but the last, with batch statistics and an analytic gradient in one
 * customGrad (tfjs' own gradient of batchNorm tiles tensors, which dominates a step on wasm).
 * `onStats` receives the (kept) batch mean and biased variance.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  onStats?: (stats: BatchStats) => void,
): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  const f = withCustomGrad((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = tf.moments(input, axes);
    const rstd = tf.rsqrt(tf.add(variance, BN_EPSILON));
    const xhat = tf.mul(tf.sub(input, mean), rstd);
    const y = tf.add(tf.mul(xhat, g), b);
    if (onStats) onStats({ mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D });
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gm] = saved;
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xh), axes);
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, count)), tf.mul(xh, tf.div(dGamma, count)));
        const dx = tf.mul(centred, tf.mul(gm, rs));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return f(x, gamma, beta);
}

/** Inference-mode BatchNorm: (x - mean) * (gamma / sqrt(variance + eps)) + beta, per last-axis channel. */
export function batchNormInfer(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, mean: tf.Tensor1D, variance: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, BN_EPSILON)));
    return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
  });
}
