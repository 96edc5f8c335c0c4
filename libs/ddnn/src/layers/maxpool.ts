import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';
import { runJsKernel, type JsKernel } from './heap-kernel';

/** Output side of a 3x3 max-pool with padding 1 on each side. */
export function pooledSize(size: number, stride: number): number {
  return Math.floor((size + 2 - 3) / stride) + 1;
}

/**
 * Gradient of a 3x3, pad-1 max-pool, routed to the first maximum of each window in row-major scan order (as the cpu
 * backend does), written into `dx` (zeros, x's size). `y` is the pooled output: each window is searched for its value,
 * which stops at the first hit instead of comparing all nine. Plain JS: the wasm backend's MaxPoolGrad is wrong with
 * padding (and slower than this loop for these sizes).
 */
function maxPoolGradInto(dx: Float32Array, x: Float32Array, y: Float32Array, dy: Float32Array, shape: readonly number[], stride: number): void {
  const [n, h, w, c] = shape;
  const ho = pooledSize(h, stride);
  const wo = pooledSize(w, stride);
  const row = w * c;
  let out = 0;
  for (let b = 0; b < n; b++) {
    const base = b * h * row;
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(0, oy * stride - 1);
      const rows = Math.min(h - 1, oy * stride + 1) - y0 + 1;
      for (let ox = 0; ox < wo; ox++) {
        const x0 = Math.max(0, ox * stride - 1);
        const cols = Math.min(w - 1, ox * stride + 1) - x0 + 1;
        const corner = base + y0 * row + x0 * c;
        for (let k = 0; k < c; k++, out++) {
          const max = y[out];
          search: for (let r = 0, start = corner + k; r < rows; r++, start += row) {
            for (let q = 0, at = start; q < cols; q++, at += c) {
              if (x[at] === max) {
                dx[at] += dy[out];
                break search;
              }
            }
          }
        }
      }
    }
  }
}

const MAX_POOL_GRAD: JsKernel<{ stride: number }> = {
  name: 'DdnnMaxPool3x3Grad',
  outShape: ([x]) => x,
  compute: (dx, [x, y, dy], [shape], { stride }) => maxPoolGradInto(dx, x, y, dy, shape, stride),
};

/** 3x3 max-pool, padding 1 on each side (padding never wins), with the gradient above. */
export function maxPool3x3(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  const f = withCustomGrad((input: tf.Tensor, save: tf.GradSaveFunc) => {
    const pooled = tf.maxPool(input as tf.Tensor4D, 3, stride, 1);
    save([input, pooled]);
    return {
      value: pooled,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runJsKernel(MAX_POOL_GRAD, [saved[0], saved[1], dy], { stride }),
    };
  });
  return f(x) as tf.Tensor4D;
}
