import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';
import { signOf, steMask } from './binarize';
import { runJsKernel, type JsKernel } from './heap-kernel';

/** [N,H,W,C] -> [C,H+2,W+2,N] with a zero border: one pass of data movement (tf.pad + tf.transpose are two slow ones). */
const PAD_TRANSPOSE: JsKernel<Record<string, never>> = {
  name: 'DdnnPadTransposeForWeightGrad',
  outShape: ([[n, h, w, c]]) => [c, h + 2, w + 2, n],
  compute: (out, [x], [[n, h, w, c]]) => {
    const pw = w + 2;
    let i = 0;
    for (let b = 0; b < n; b++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const o = ((y + 1) * pw + xx + 1) * n + b;
          for (let k = 0; k < c; k++, i++) out[o + k * (h + 2) * pw * n] = x[i];
        }
      }
    }
  },
};

/**
 * The input of a 3x3 pad-1 conv laid out for its weight gradient: padded, then transposed to [Cin, H+2, W+2, N]
 * so that dW is one ordinary conv2d of it with the transposed output gradient. For device convs the input is
 * data, so this is prepared once per batch and reused every step.
 */
export function prepareWeightGradInput(x: tf.Tensor4D): tf.Tensor4D {
  return runJsKernel(PAD_TRANSPOSE, [x], {}) as tf.Tensor4D;
}

function weightGrad(xT: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  // dW[kh,kw,ci,co] = sum_{n,h,w} xpad[n,h+kh,w+kw,ci] dy[n,h,w,co]: a valid conv of xT [ci,H+2,W+2,n]
  // with dy as a filter [H,W,n,co] gives [ci,3,3,co].
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  return tf.transpose(tf.conv2d(xT, dyT, 1, 'valid'), [1, 2, 0, 3]) as tf.Tensor4D;
}

/** [N,H,W,C] -> the 3x3 pad-1 patches as rows [(kh, kw, c), (n, h, w)]: [9C, NHW], zeros outside the image. */
const PATCH_ROWS: JsKernel<Record<string, never>> = {
  name: 'DdnnConvPatchRows',
  outShape: ([[n, h, w, c]]) => [9 * c, n * h * w],
  compute: (out, [x], [[n, h, w, c]]) => {
    // Row by row of the output (sequential writes); `out` starts as zeros, which the image border keeps.
    const m = n * h * w;
    for (let kh = 0; kh < 3; kh++) {
      for (let kw = 0; kw < 3; kw++) {
        const x0 = kw === 0 ? 1 : 0;
        const x1 = kw === 2 ? w - 1 : w;
        for (let k = 0; k < c; k++) {
          const row = ((kh * 3 + kw) * c + k) * m;
          for (let b = 0; b < n; b++) {
            for (let y = 0; y < h; y++) {
              const sy = y + kh - 1;
              if (sy < 0 || sy >= h) continue;
              const o = row + (b * h + y) * w;
              const src = (b * h + sy) * w * c + k + (kw - 1) * c;
              for (let xx = x0; xx < x1; xx++) out[o + xx] = x[src + xx * c];
            }
          }
        }
      }
    }
  },
};

/**
 * Inputs with at most this many channels get their weight gradient as one matMul of their patch rows with dy: with
 * few rows (9 Cin) the product streams dy a few times, where the conv form (dy as a [H,W,N,Cout] filter) repacks and
 * streams it for every few of its 9 Cin outputs, 3-4x slower for the cloud's shared block on the devices' 4-channel
 * maps. With many channels the patch rows (9x the input) cost more than they save.
 */
const PATCH_ROWS_MAX_CHANNELS = 8;

/** The weight gradient of a conv whose input is computed in the step (prepared there, not once per batch). */
function weightGradOf(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, cin] = x.shape;
  if (cin > PATCH_ROWS_MAX_CHANNELS) return weightGrad(prepareWeightGradInput(x), dy);
  const patches = runJsKernel(PATCH_ROWS, [x], {}) as tf.Tensor2D;
  const cout = dy.shape[3];
  return tf.reshape(tf.matMul(patches, tf.reshape(dy, [n * h * w, cout]) as tf.Tensor2D), [3, 3, cin, cout]) as tf.Tensor4D;
}

function inputGrad(dy: tf.Tensor4D, wb: tf.Tensor4D): tf.Tensor4D {
  // A transposed conv of stride 1 is a conv with the filter flipped and its channel axes swapped; this is much
  // faster on wasm than Conv2DBackpropInput.
  const flipped = tf.transpose(tf.reverse(wb, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(dy, flipped, 1, 1);
}

/**
 * 3x3 stride-1 pad-1 conv with sign(w) as the filter and no bias. Gradients: the straight-through weight
 * gradient (masked where |w| > 1) always; the input gradient only when `inputNeedsGrad` (device inputs are data).
 * `xT` optionally supplies prepareWeightGradInput(x) computed in advance.
 */
export function binaryConv(x: tf.Tensor4D, w: tf.Tensor4D, inputNeedsGrad: boolean, xT?: tf.Tensor4D): tf.Tensor4D {
  return conv3x3(x, w, true, inputNeedsGrad, xT);
}

/** The same 3x3 conv with the real weights as the filter (float edge/cloud sections): plain gradients, no STE. */
export function floatConv(x: tf.Tensor4D, w: tf.Tensor4D, inputNeedsGrad: boolean): tf.Tensor4D {
  return conv3x3(x, w, false, inputNeedsGrad);
}

function conv3x3(x: tf.Tensor4D, w: tf.Tensor4D, binary: boolean, inputNeedsGrad: boolean, xT?: tf.Tensor4D): tf.Tensor4D {
  const filterOf = (weight: tf.Tensor) => (binary ? signOf(weight) : weight) as tf.Tensor4D;
  const ste = (dW: tf.Tensor, weight: tf.Tensor) => (binary ? tf.mul(dW, steMask(weight)) : dW);
  if (inputNeedsGrad) {
    const f = withCustomGrad((input: tf.Tensor, weight: tf.Tensor, save: tf.GradSaveFunc) => {
      const wb = filterOf(weight);
      save([input, weight, wb]);
      return {
        value: tf.conv2d(input as tf.Tensor4D, wb, 1, 1),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [inp, wt, wbin] = saved as tf.Tensor4D[];
          const dW = ste(weightGradOf(inp, dy as tf.Tensor4D), wt);
          return [inputGrad(dy as tf.Tensor4D, wbin), dW];
        },
      };
    });
    return f(x, w) as tf.Tensor4D;
  }
  const f = withCustomGrad((weight: tf.Tensor, save: tf.GradSaveFunc) => {
    save([weight]);
    return {
      value: tf.conv2d(x, filterOf(weight), 1, 1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const prepared = xT ?? prepareWeightGradInput(x);
        return ste(weightGrad(prepared, dy as tf.Tensor4D), saved[0]);
      },
    };
  });
  return f(w) as tf.Tensor4D;
}

/** Linear layer with sign(w) [in, out] and no bias; straight-through weight gradient. */
export function binaryDense(x: tf.Tensor2D, w: tf.Tensor2D, inputNeedsGrad: boolean): tf.Tensor2D {
  const f = withCustomGrad((input: tf.Tensor, weight: tf.Tensor, save: tf.GradSaveFunc) => {
    const wb = signOf(weight) as tf.Tensor2D;
    save([input, weight, wb]);
    return {
      value: tf.matMul(input as tf.Tensor2D, wb),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [inp, wt, wbin] = saved as tf.Tensor2D[];
        const dW = tf.mul(tf.matMul(inp, dy as tf.Tensor2D, true, false), steMask(wt));
        const dx = inputNeedsGrad ? tf.matMul(dy as tf.Tensor2D, wbin, false, true) : tf.zerosLike(inp);
        return [dx, dW];
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
}
