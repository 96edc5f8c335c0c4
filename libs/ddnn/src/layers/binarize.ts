import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';

/** +1 where x >= 0, else -1 (no gradient). */
export function signOf(x: tf.Tensor): tf.Tensor {
  // 1 - 2*step(-x) uses only unary ops, much cheaper on wasm than comparisons with broadcast.
  return tf.tidy(() => tf.sub(1, tf.mul(2, tf.step(tf.neg(x)))));
}

/** The hard-tanh straight-through mask: 1 where |x| <= 1, else 0. */
export function steMask(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(1, tf.step(tf.sub(tf.abs(x), 1))));
}

/** sign(x) forward, hard-tanh straight-through gradient backward (used for weights and activations). */
export const signSte = withCustomGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: signOf(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, steMask(saved[0])),
  };
}) as (x: tf.Tensor) => tf.Tensor;
