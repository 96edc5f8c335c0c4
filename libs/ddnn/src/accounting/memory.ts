import { poolAxis, type PoolPadding } from '../binary/pool-geometry';

/** The architecture of one device section, enough to size it. */
export interface DeviceSectionShape {
  height: number;
  width: number;
  channels: number;
  /** Filters of each ConvP block, first to last. */
  filters: readonly number[];
  classes: number;
  poolStride?: number;
  poolPadding?: PoolPadding;
}

/** Memory of a device section at inference, in bytes unless named bits. */
export interface DeviceMemoryFootprint {
  /** Binary conv weights (9 * cin * cout bits per block) and FC weights (features * |C| bits). */
  convWeightBits: number;
  fcWeightBits: number;
  binaryWeightBytes: number;
  /** gamma, beta, running mean and variance as float32, for every ConvP block and the head. */
  batchNormParams: number;
  batchNormBytes: number;
  /** Conv blocks need only one float32 threshold per channel once BatchNorm + sign are folded. */
  foldedThresholdBytes: number;
  /** Packed +-1 output map of every block: ceil(H' W' f / 8). */
  activationBytes: number[];
  /** The map the device sends (the last block's). */
  featureBytes: number;
  /** |C| float32 scores. */
  scoreBytes: number;
  /**
   * The model as a constrained device stores it (binary weights, float32 BatchNorm parameters) plus the
   * largest packed activation map: the quantity the paper bounds by 2 KB for f <= 8.
   */
  modelAndActivationBytes: number;
  /**
   * What this library's TypeScript kernels (binary/convp-layer.ts) hold beyond the packed model: per
   * block one float32 conv row, a 3-row ring of pooled column maxima and the packed output in 32-bit
   * words per pixel (binary blocks also a patch and its mask), the first block's signs as float32 +-1
   * (channels rounded up to 4) and its fast path's packed sums (firstBlockFastPathBytes), and the head's dense bit
   * stream.
   */
  kernelBufferBytes: number;
}

/**
 * The float-input first block's fast path (binary/float-input-convp.ts): per padded pixel and group of three input
 * channels eight packed float64 signed sums, per conv pixel its hit words, per channel a tap table (int32 per tap and
 * group) and three float64 bounds, and the up flags. The packed sums dominate: ~72 KB at 32x32x3.
 */
function firstBlockFastPathBytes(h: number, w: number, cin: number, f: number): number {
  const groups = Math.ceil(cin / 3);
  const words = Math.ceil(f / 32);
  return 8 * 8 * (h + 2) * 3 * Math.ceil(w / 3) * groups + 4 * h * w * words + 4 * words + f + 3 * 8 * f + 4 * f * 9 * groups;
}

/** Sizes a device section's parameters and activation buffers (see DeviceMemoryFootprint). */
export function deviceMemoryFootprint(shape: DeviceSectionShape): DeviceMemoryFootprint {
  const stride = shape.poolStride ?? 2;
  const padding = shape.poolPadding ?? 1;
  if (shape.filters.length === 0) throw new Error('a device section needs at least one ConvP block');
  let h = shape.height;
  let w = shape.width;
  let cin = shape.channels;
  let convWeightBits = 0;
  let convChannels = 0;
  let kernelBufferBytes = 0;
  const activationBytes: number[] = [];
  for (const f of shape.filters) {
    if (!Number.isInteger(f) || f < 1) throw new Error(`filters must be positive integers, got ${f}`);
    convWeightBits += 9 * cin * f;
    convChannels += f;
    const ho = poolAxis(h, stride, padding).out;
    const wo = poolAxis(w, stride, padding).out;
    const first = kernelBufferBytes === 0;
    const rowChannels = first ? Math.ceil(f / 4) * 4 : f;
    kernelBufferBytes += 4 * (w * rowChannels + 3 * wo * f + ho * wo * Math.ceil(f / 32));
    kernelBufferBytes += first ? 4 * 9 * cin * rowChannels + firstBlockFastPathBytes(h, w, cin, f) : 2 * 4 * Math.ceil((9 * cin) / 32);
    activationBytes.push(Math.ceil((ho * wo * f) / 8));
    h = ho;
    w = wo;
    cin = f;
  }
  const features = h * w * cin;
  const fcWeightBits = features * shape.classes;
  const binaryWeightBytes = Math.ceil(convWeightBits / 8) + Math.ceil(fcWeightBits / 8);
  const batchNormParams = 4 * (convChannels + shape.classes);
  const batchNormBytes = 4 * batchNormParams;
  const featureBytes = activationBytes[activationBytes.length - 1];
  return {
    convWeightBits,
    fcWeightBits,
    binaryWeightBytes,
    batchNormParams,
    batchNormBytes,
    foldedThresholdBytes: 4 * convChannels,
    activationBytes,
    featureBytes,
    scoreBytes: 4 * shape.classes,
    modelAndActivationBytes: binaryWeightBytes + batchNormBytes + Math.max(...activationBytes),
    kernelBufferBytes: kernelBufferBytes + Math.ceil(features / 32) * 4,
  };
}
