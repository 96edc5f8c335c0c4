import * as tf from '@tensorflow/tfjs';

/** What a custom-gradient function returns: the value and the gradients of its tensor inputs. */
export interface GradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/** tf.customGrad with plain typing: `f(...tensors, save)`; the tensors' gradients come from gradFunc. */
export function withCustomGrad(f: (...args: never[]) => GradResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}
