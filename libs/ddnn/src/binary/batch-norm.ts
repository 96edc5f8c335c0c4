// BatchNorm at inference, computed with exactly the float arithmetic of the tfjs path it must match, so
// scores are bit-identical and signs agree even at the decision boundary:
// - layers (the model's batchNormInfer in ../layers/batchnorm.ts, separate float32 tfjs ops):
//   scale = gamma / sqrt(variance + eps); out = (x - mean) * scale + beta, every op rounded to float32
//   (identical on the cpu and wasm backends: each op is a single correctly rounded operation).
// - cpu  (tfjs-backend-cpu BatchNorm.js): offset + (x - mean) * scale / Math.sqrt(variance + eps), in
//   float64 with eps as a float64, rounded to float32 once when stored.
// - wasm (tfjs-backend-wasm 4.22 FusedBatchNorm): sqrt(variance + eps) in float32 per channel (eps as a
//   float32), (x - mean) * scale in float32, then the division and the offset addition unrounded (double),
//   one rounding at the end. Established by probing the 4.22 binary (50,000 random cases, all identical);
//   the all-float32 reading of the C++ source disagreed on a quarter of them.

/** Whose arithmetic to reproduce: the model's batchNormInfer ('layers') or tf.batchNorm on a backend. */
export type BatchNormFormula = 'layers' | 'wasm' | 'cpu';

/** Every supported formula, for validating options. */
export const BATCH_NORM_FORMULAS: readonly BatchNormFormula[] = ['layers', 'wasm', 'cpu'];

/** Per-channel BatchNorm inference parameters (running statistics). */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

const f32 = Math.fround;

/** One channel's BatchNorm as a function of a float32 input, with a backend's exact rounding. */
export function batchNormChannel(params: BatchNormParams, channel: number, epsilon: number, formula: BatchNormFormula): (x: number) => number {
  const scale = params.gamma[channel];
  const offset = params.beta[channel];
  const mean = params.mean[channel];
  const variance = params.variance[channel];
  if (!(variance + epsilon > 0)) throw new Error(`BatchNorm channel ${channel}: variance ${variance} + epsilon must be positive`);
  if (formula === 'layers') {
    const factor = f32(scale / f32(Math.sqrt(f32(variance + f32(epsilon)))));
    return (x) => f32(f32(f32(x - mean) * factor) + offset);
  }
  if (formula === 'cpu') {
    const denominator = Math.sqrt(variance + epsilon);
    return (x) => f32(offset + ((x - mean) * scale) / denominator);
  }
  const denominator = f32(Math.sqrt(f32(variance + f32(epsilon))));
  return (x) => f32(offset + f32(f32(x - mean) * scale) / denominator);
}

/**
 * BatchNorm followed by sign (x >= 0 -> +1) folded into one comparison per channel. Both formulas are
 * compositions of correctly rounded operations, hence monotone in x (non-decreasing for gamma > 0,
 * non-increasing for gamma < 0, constant for gamma = 0), so the set of inputs mapping to +1 is a ray:
 * `x >= at` (up), `x <= at` (down), everything (always) or nothing (never). `at` is found by bisection
 * over the float32 (or integer) domain with the exact formula, so the comparison is exact.
 */
export interface SignThreshold {
  kind: 'up' | 'down' | 'always' | 'never';
  at: number;
}

/** Order-preserving map from float32 values to integers (both zeros map next to each other). */
function floatKey(x: number, view: DataView): number {
  view.setFloat32(0, x);
  const bits = view.getInt32(0);
  return bits >= 0 ? bits : -(bits & 0x7fffffff) - 1;
}

function keyFloat(key: number, view: DataView): number {
  view.setInt32(0, key >= 0 ? key : (-(key + 1)) | 0x80000000);
  return view.getFloat32(0);
}

/**
 * The exact sign threshold of one channel over float32 inputs in [lo, hi] (finite, ascending), or over
 * the integers in [lo, hi] when `integers` is set (binary-input convolutions produce integers).
 */
export function signThreshold(bn: (x: number) => number, lo: number, hi: number, integers: boolean): SignThreshold {
  const view = new DataView(new ArrayBuffer(4));
  const toKey = integers ? (x: number) => x : (x: number) => floatKey(x, view);
  const fromKey = integers ? (k: number) => k : (k: number) => keyFloat(k, view);
  const positive = (k: number) => bn(fromKey(k)) >= 0;
  let a = toKey(lo);
  let b = toKey(hi);
  const atLo = positive(a);
  const atHi = positive(b);
  if (atLo && atHi) return { kind: 'always', at: 0 };
  if (!atLo && !atHi) return { kind: 'never', at: 0 };
  // Invariant: positive(a) === atLo, positive(b) === atHi, and the answer flips between a and b.
  while (b - a > 1) {
    const m = a + Math.floor((b - a) / 2);
    if (positive(m) === atLo) a = m;
    else b = m;
  }
  return atHi ? { kind: 'up', at: fromKey(b) } : { kind: 'down', at: fromKey(a) };
}

/** Applies a threshold: true means +1. */
export function passes(t: SignThreshold, x: number): boolean {
  switch (t.kind) {
    case 'up':
      return x >= t.at;
    case 'down':
      return x <= t.at;
    case 'always':
      return true;
    default:
      return false;
  }
}
