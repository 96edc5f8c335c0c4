import { batchNormChannel, signThreshold, type BatchNormFormula } from './batch-norm';
import { appendBits, lowMask, popcount32, wordsFor } from './bits';
import { poolAxis, type PoolAxis, type PoolPadding } from './pool-geometry';
import type { ConvPWeights } from './section-weights';

/** Geometry and arithmetic of one ConvP block at inference. */
export interface ConvPLayerOptions {
  height: number;
  width: number;
  poolStride: number;
  poolPadding: PoolPadding;
  formula: BatchNormFormula;
  epsilon: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A ConvP block's output: +-1 activations as bits, one group of `wordsPerPixel` int32 words per pixel
 * (HWC; channel c of a pixel is bit c & 31 of its word c >>> 5; +1 -> 1).
 */
export abstract class ConvPLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly wordsPerPixel: number;
  /** The block's packed output, rewritten by every run. */
  readonly output: Int32Array;
  protected readonly height: number;
  protected readonly width: number;
  private readonly rows: PoolAxis;
  private readonly cols: PoolAxis;
  private readonly stride: number;
  // BatchNorm + sign folded per channel into `scale * x >= at` with scale +-1 (see SignThreshold).
  private readonly thresholdScale: Float64Array;
  private readonly thresholdAt: Float64Array;
  private readonly pooled: Float64Array;

  protected constructor(weights: ConvPWeights, options: ConvPLayerOptions, integerInputs: boolean, inputBound: number) {
    this.inChannels = weights.inChannels;
    this.outChannels = weights.outChannels;
    this.height = options.height;
    this.width = options.width;
    this.stride = options.poolStride;
    this.rows = poolAxis(options.height, options.poolStride, options.poolPadding);
    this.cols = poolAxis(options.width, options.poolStride, options.poolPadding);
    this.outHeight = this.rows.out;
    this.outWidth = this.cols.out;
    this.wordsPerPixel = wordsFor(this.outChannels);
    this.output = new Int32Array(this.outHeight * this.outWidth * this.wordsPerPixel);
    this.pooled = new Float64Array(this.outChannels);
    this.thresholdScale = new Float64Array(this.outChannels);
    this.thresholdAt = new Float64Array(this.outChannels);
    for (let c = 0; c < this.outChannels; c++) {
      const bn = batchNormChannel(weights.bn, c, options.epsilon, options.formula);
      const t = signThreshold(bn, -inputBound, inputBound, integerInputs);
      if (t.kind === 'down') {
        this.thresholdScale[c] = -1;
        this.thresholdAt[c] = -t.at;
      } else {
        this.thresholdScale[c] = 1;
        this.thresholdAt[c] = t.kind === 'up' ? t.at : t.kind === 'always' ? -Infinity : NaN;
      }
    }
  }

  /** Max-pool (padding never wins: -infinity) then the folded BatchNorm + sign, into `output`. */
  protected poolAndSign(conv: Float32Array | Int32Array): void {
    const { height, width, outChannels: cout, stride, pooled, output, wordsPerPixel: wpp } = this;
    const scale = this.thresholdScale;
    const at = this.thresholdAt;
    output.fill(0);
    for (let oy = 0; oy < this.outHeight; oy++) {
      const y0 = Math.max(oy * stride - this.rows.padBefore, 0);
      const y1 = Math.min(oy * stride - this.rows.padBefore + 3, height);
      for (let ox = 0; ox < this.outWidth; ox++) {
        const x0 = Math.max(ox * stride - this.cols.padBefore, 0);
        const x1 = Math.min(ox * stride - this.cols.padBefore + 3, width);
        pooled.fill(-Infinity);
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const base = (y * width + x) * cout;
            for (let c = 0; c < cout; c++) {
              const v = conv[base + c];
              if (v > pooled[c]) pooled[c] = v;
            }
          }
        }
        const o = (oy * this.outWidth + ox) * wpp;
        for (let c = 0; c < cout; c++) {
          if (scale[c] * pooled[c] >= at[c]) output[o + (c >>> 5)] |= 1 << (c & 31);
        }
      }
    }
  }

  /** The output as one dense HWC bit stream (the wire order), into `out` (ceil(bits / 32) words). */
  denseOutput(out: Int32Array): Int32Array {
    const { wordsPerPixel: wpp, outChannels: cout } = this;
    out.fill(0);
    let pos = 0;
    const pixels = this.outHeight * this.outWidth;
    for (let p = 0; p < pixels; p++) {
      for (let k = 0; k < wpp; k++) {
        const n = Math.min(32, cout - 32 * k);
        pos = appendBits(out, pos, this.output[p * wpp + k] & lowMask(n), n);
      }
    }
    return out;
  }
}

/**
 * First block of a device: float image in, binary (+-1) weights, so the convolution is only additions
 * and subtractions. Accumulates in float32 in tfjs-backend-cpu's order (kernel row, column, input
 * channel), so the pre-BatchNorm values are bit-identical to tf.conv2d on the cpu backend.
 */
export class FloatInputConvP extends ConvPLayer {
  private readonly signs: Float32Array;
  private readonly conv: Float32Array;

  constructor(weights: ConvPWeights, options: ConvPLayerOptions) {
    super(weights, options, false, FLOAT32_MAX);
    this.signs = Float32Array.from(weights.kernel, (w) => (w >= 0 ? 1 : -1));
    this.conv = new Float32Array(this.height * this.width * this.outChannels);
  }

  /** Runs the block on an H*W*C float view (HWC). */
  run(view: Float32Array): Int32Array {
    const { height, width, inChannels: cin, outChannels: cout, signs, conv } = this;
    conv.fill(0);
    for (let y = 0; y < height; y++) {
      for (let ky = 0; ky < 3; ky++) {
        const sy = y + ky - 1;
        if (sy < 0 || sy >= height) continue;
        for (let x = 0; x < width; x++) {
          const o = (y * width + x) * cout;
          for (let kx = 0; kx < 3; kx++) {
            const sx = x + kx - 1;
            if (sx < 0 || sx >= width) continue;
            const i = (sy * width + sx) * cin;
            let w = (ky * 3 + kx) * cin * cout;
            for (let ci = 0; ci < cin; ci++) {
              const v = view[i + ci];
              // Float32Array stores round every partial sum to float32, as tfjs's cpu kernel does.
              for (let co = 0; co < cout; co++) conv[o + co] += v * signs[w + co];
              w += cout;
            }
          }
        }
      }
    }
    this.poolAndSign(conv);
    return this.output;
  }
}

/**
 * A block on +-1 input: XNOR/popcount. Per output pixel the 3x3 x cin input bits are gathered once into
 * a dense patch (with a validity mask for zero padding and absent channels); every output channel is
 * then a few word-wide XNOR + popcount steps: dot = 2 * matches - valid.
 */
export class BinaryInputConvP extends ConvPLayer {
  readonly inWordsPerPixel: number;
  private readonly patchWords: number;
  private readonly weightBits: Int32Array;
  private readonly patch: Int32Array;
  private readonly mask: Int32Array;
  private readonly conv: Int32Array;
  private readonly allChannels: Int32Array;

  constructor(weights: ConvPWeights, options: ConvPLayerOptions) {
    super(weights, options, true, 9 * weights.inChannels);
    const { inChannels: cin, outChannels: cout } = this;
    this.inWordsPerPixel = wordsFor(cin);
    this.patchWords = wordsFor(9 * cin);
    this.weightBits = new Int32Array(cout * this.patchWords);
    for (let co = 0; co < cout; co++) {
      for (let tap = 0; tap < 9; tap++) {
        for (let ci = 0; ci < cin; ci++) {
          if (weights.kernel[(tap * cin + ci) * cout + co] >= 0) {
            const bit = tap * cin + ci;
            this.weightBits[co * this.patchWords + (bit >>> 5)] |= 1 << (bit & 31);
          }
        }
      }
    }
    this.patch = new Int32Array(this.patchWords);
    this.mask = new Int32Array(this.patchWords);
    this.conv = new Int32Array(this.height * this.width * cout);
    this.allChannels = new Int32Array(this.inWordsPerPixel);
    for (let k = 0; k < this.inWordsPerPixel; k++) this.allChannels[k] = lowMask(Math.min(32, cin - 32 * k));
  }

  /**
   * Runs the block on packed +-1 input (inWordsPerPixel words per pixel). `present` marks the values
   * that exist, one bit per channel (inWordsPerPixel words) or per value (same length as `input`);
   * absent ones count as 0, as a dead device's zero features do.
   */
  run(input: Int32Array, present: Int32Array = this.allChannels): Int32Array {
    const { height, width, inChannels: cin, outChannels: cout, inWordsPerPixel: wpp, patchWords: pw } = this;
    const { patch, mask, weightBits, conv } = this;
    if (input.length !== height * width * wpp) throw new Error(`binary ConvP: input has ${input.length} words, expected ${height * width * wpp}`);
    const perValue = present.length === input.length;
    if (!perValue && present.length !== wpp) throw new Error(`binary ConvP: presence mask has ${present.length} words, expected ${wpp} or ${input.length}`);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        patch.fill(0);
        mask.fill(0);
        let pos = 0;
        for (let ky = -1; ky <= 1; ky++) {
          const sy = y + ky;
          for (let kx = -1; kx <= 1; kx++) {
            const sx = x + kx;
            if (sy < 0 || sy >= height || sx < 0 || sx >= width) {
              pos += cin;
              continue;
            }
            const i = (sy * width + sx) * wpp;
            for (let k = 0; k < wpp; k++) {
              const n = Math.min(32, cin - 32 * k);
              const m = present[perValue ? i + k : k] & lowMask(n);
              appendBits(mask, pos, m, n);
              pos = appendBits(patch, pos, input[i + k] & m, n);
            }
          }
        }
        let valid = 0;
        for (let k = 0; k < pw; k++) valid += popcount32(mask[k]);
        const o = (y * width + x) * cout;
        for (let co = 0; co < cout; co++) {
          let matches = 0;
          const w = co * pw;
          for (let k = 0; k < pw; k++) matches += popcount32(~(patch[k] ^ weightBits[w + k]) & mask[k]);
          conv[o + co] = 2 * matches - valid;
        }
      }
    }
    this.poolAndSign(conv);
    return this.output;
  }
}
