import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';
import { runJsKernel, type JsKernel } from './heap-kernel';
import { BN_EPSILON } from './constants';

/** Batch statistics a training-mode BatchNorm used, so they can become the inference statistics. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Channels (last axis) and values per channel of a tensor shape. */
function channelsOf(shape: number[]): { channels: number; count: number } {
  const channels = shape[shape.length - 1];
  return { channels, count: tf.util.sizeFromShape(shape) / channels };
}

/** 1 / sqrt(variance + eps) per channel of a [2, C] stats block (means, then variances). */
function rstdOf(stats: Float32Array, channels: number): Float64Array {
  return Float64Array.from({ length: channels }, (_, c) => 1 / Math.sqrt(stats[channels + c] + BN_EPSILON));
}

// The kernels below fold every per-channel constant first, so a pass costs one multiply-add or two per value.

/**
 * x [..., C] -> [2, C]: per-channel mean and biased variance from one pass of float64 sums of x and x^2 (the
 * cancellation in E[x^2] - E[x]^2 is far below float32 resolution at these magnitudes).
 */
const MOMENTS: JsKernel<Record<string, never>> = {
  name: 'DdnnBatchNormMoments',
  outShape: ([x]) => [2, x[x.length - 1]],
  compute: (out, [x], [shape]) => {
    const { channels, count } = channelsOf(shape);
    const sum = new Float64Array(channels);
    const squares = new Float64Array(channels);
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const v = x[i + c];
        sum[c] += v;
        squares[c] += v * v;
      }
    }
    for (let c = 0; c < channels; c++) {
      const mean = sum[c] / count;
      out[c] = mean;
      out[channels + c] = Math.max(0, squares[c] / count - mean * mean);
    }
  },
};

/** (x, stats, gamma, beta) -> (x - mean) / sqrt(variance + eps) * gamma + beta. */
const NORMALIZE: JsKernel<Record<string, never>> = {
  name: 'DdnnBatchNormNormalize',
  outShape: ([x]) => x,
  compute: (out, [x, stats, gamma, beta], [shape]) => {
    const { channels } = channelsOf(shape);
    const rstd = rstdOf(stats, channels);
    const scale = Float64Array.from({ length: channels }, (_, c) => rstd[c] * gamma[c]);
    const shift = Float64Array.from({ length: channels }, (_, c) => beta[c] - stats[c] * scale[c]);
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) out[i + c] = x[i + c] * scale[c] + shift[c];
    }
  },
};

/** (dy, x, stats) -> [2, C]: dBeta = sum dy, dGamma = sum dy * xhat = (sum dy x - mean sum dy) * rstd. */
const AFFINE_GRADS: JsKernel<Record<string, never>> = {
  name: 'DdnnBatchNormAffineGrads',
  outShape: ([dy]) => [2, dy[dy.length - 1]],
  compute: (out, [dy, x, stats], [shape]) => {
    const { channels } = channelsOf(shape);
    const sumDy = new Float64Array(channels);
    const sumDyX = new Float64Array(channels);
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const g = dy[i + c];
        sumDy[c] += g;
        sumDyX[c] += g * x[i + c];
      }
    }
    const rstd = rstdOf(stats, channels);
    for (let c = 0; c < channels; c++) {
      out[c] = sumDy[c];
      out[channels + c] = (sumDyX[c] - stats[c] * sumDy[c]) * rstd[c];
    }
  },
};

/**
 * (dy, x, stats, gamma, affine grads) -> dx = (dy - dBeta / n - xhat * dGamma / n) * gamma * rstd, folded into
 * dy * s + x * t + u per channel.
 */
const INPUT_GRAD: JsKernel<Record<string, never>> = {
  name: 'DdnnBatchNormInputGrad',
  outShape: ([dy]) => dy,
  compute: (out, [dy, x, stats, gamma, affine], [shape]) => {
    const { channels, count } = channelsOf(shape);
    const rstd = rstdOf(stats, channels);
    const s = Float64Array.from({ length: channels }, (_, c) => gamma[c] * rstd[c]);
    // xhat * dGamma / n = (x - mean) * k with k = rstd * dGamma / n.
    const t = Float64Array.from({ length: channels }, (_, c) => -((rstd[c] * affine[channels + c]) / count) * s[c]);
    const u = Float64Array.from({ length: channels }, (_, c) => (-affine[c] / count + (stats[c] * rstd[c] * affine[channels + c]) / count) * s[c]);
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) out[i + c] = dy[i + c] * s[c] + x[i + c] * t[c] + u[c];
    }
  },
};

/**
 * Training-mode BatchNorm over every axis but the last, with batch statistics and an analytic gradient in one
 * customGrad. Statistics, normalisation and gradients are fused JS kernels over the wasm heap (float64 sums): as
 * tfjs ops they were some twenty kernels a layer, and their reductions over the leading axes each transposed the
 * whole map first. `onStats` receives the (kept) batch mean and biased variance.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  onStats?: (stats: BatchStats) => void,
): tf.Tensor {
  const f = withCustomGrad((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const stats = runJsKernel(MOMENTS, [input], {});
    if (onStats) {
      const [mean, variance] = tf.unstack(stats);
      onStats({ mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D });
    }
    save([input, stats, g]);
    return {
      value: runJsKernel(NORMALIZE, [input, stats, g, b], {}),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [inp, st, gm] = saved;
        const affine = runJsKernel(AFFINE_GRADS, [dy, inp, st], {});
        const [dBeta, dGamma] = tf.unstack(affine);
        return [runJsKernel(INPUT_GRAD, [dy, inp, st, gm, affine], {}), dGamma, dBeta];
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
