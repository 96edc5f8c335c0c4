import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';

/** Output side of a 3x3 max-pool with padding 1 on each side. */
export function pooledSize(size: number, stride: number): number {
  return Math.floor((size + 2 - 3) / stride) + 1;
}

/**
 * Gradient of a 3x3, pad-1 max-pool, routed to the first maximum of each window in row-major scan order (as
 * the cpu backend does). Plain JS over the downloaded tensors: the wasm backend's MaxPoolGrad is wrong with
 * padding, and this loop is also far faster than any backend kernel for these sizes.
 */
export function maxPoolGradJs(x: Float32Array, shape: readonly number[], dy: Float32Array, stride: number): Float32Array {
  const [n, h, w, c] = shape;
  const ho = pooledSize(h, stride);
  const wo = pooledSize(w, stride);
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c);
  const bestAt = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let oy = 0; oy < ho; oy++) {
      const y0 = Math.max(0, oy * stride - 1);
      const y1 = Math.min(h - 1, oy * stride + 1);
      for (let ox = 0; ox < wo; ox++) {
        const x0 = Math.max(0, ox * stride - 1);
        const x1 = Math.min(w - 1, ox * stride + 1);
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let yy = y0; yy <= y1; yy++) {
          for (let xx = x0; xx <= x1; xx++) {
            const at = base + (yy * w + xx) * c;
            for (let k = 0; k < c; k++) {
              const v = x[at + k];
              if (v > best[k]) {
                best[k] = v;
                bestAt[k] = at + k;
              }
            }
          }
        }
        const out = ((b * ho + oy) * wo + ox) * c;
        for (let k = 0; k < c; k++) if (bestAt[k] >= 0) dx[bestAt[k]] += dy[out + k];
      }
    }
  }
  return dx;
}

/** 3x3 max-pool, padding 1 on each side (padding never wins), with the JS gradient above. */
export function maxPool3x3(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  const f = withCustomGrad((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: tf.maxPool(input as tf.Tensor4D, 3, stride, 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inp = saved[0];
        const dx = maxPoolGradJs(inp.dataSync() as Float32Array, inp.shape, dy.dataSync() as Float32Array, stride);
        return tf.tensor(dx, inp.shape, 'float32');
      },
    };
  });
  return f(x) as tf.Tensor4D;
}
