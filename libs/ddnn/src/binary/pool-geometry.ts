/** How a 3x3 max-pool pads: tfjs 'same' (TensorFlow's rule, possibly asymmetric) or a symmetric count. */
export type PoolPadding = 'same' | number;

/** Output size and leading padding of a 3x3 pool along one axis. */
export interface PoolAxis {
  out: number;
  padBefore: number;
}

/** TensorFlow's geometry for a size-3 window: 'same' pads (total) / 2 before, the rest after. */
export function poolAxis(size: number, stride: number, padding: PoolPadding): PoolAxis {
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`pool stride must be a positive integer, got ${stride}`);
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + 3 - size, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  if (!Number.isInteger(padding) || padding < 0 || padding > 1) throw new Error(`pool padding must be 'same', 0 or 1, got ${padding}`);
  const out = Math.floor((size + 2 * padding - 3) / stride) + 1;
  if (out < 1) throw new Error(`pool: input size ${size} is too small for a 3x3 window with padding ${padding}`);
  return { out, padBefore: padding };
}
