import { batchNormChannel, signThreshold, type BatchNormFormula } from './batch-norm';
import { appendBits, lowMask, wordsFor } from './bits';
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

/**
 * A ConvP block's output: +-1 activations as bits, one group of `wordsPerPixel` int32 words per pixel
 * (HWC; channel c of a pixel is bit c & 31 of its word c >>> 5; +1 -> 1). The pool, the folded BatchNorm + sign and
 * the packing are shared here; the conv is the kernel's own: FloatInputConvP (float image, float-input-convp.ts) or
 * BinaryInputConvP (XNOR/popcount on packed bits, binary-input-convp.ts).
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
  protected readonly rows: PoolAxis;
  protected readonly cols: PoolAxis;
  protected readonly stride: number;
  // BatchNorm + sign folded per channel into `scale * x >= at` with scale +-1 (see SignThreshold).
  protected readonly thresholdScale: Float64Array;
  protected readonly thresholdAt: Float64Array;
  /** Channel stride of a conv row as computeRow writes it (>= outChannels when padded). */
  protected readonly rowStride: number;
  // Streaming buffers: one conv row, and a ring of the last three rows' column-window maxima (a pool
  // window spans three rows), so the block never holds its full-resolution map.
  private readonly convRow: Float32Array;
  private readonly ring: Float32Array;
  private readonly colMax: Float32Array;

  protected constructor(weights: ConvPWeights, options: ConvPLayerOptions, integerInputs: boolean, inputBound: number, rowStride: number) {
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
    this.rowStride = rowStride;
    this.convRow = new Float32Array(this.width * rowStride);
    this.ring = new Float32Array(3 * this.outWidth * this.outChannels);
    this.colMax = new Float32Array(this.outChannels);
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

  /** Writes conv output row `y` of the current input (width x rowStride values, HWC) into `row`. */
  protected abstract computeRow(y: number, row: Float32Array): void;

  /**
   * Conv row by row, max-pool (padding never wins: -infinity), then the folded BatchNorm + sign, into
   * `output`. Each conv row is reduced at once to its column-window maxima in a 3-row ring; an output
   * row takes the max over the ring rows its window covers.
   */
  protected convPoolSign(): void {
    const { height, width, outChannels: cout, outWidth, output, wordsPerPixel: wpp, convRow, ring, colMax, rowStride } = this;
    const step = this.stride;
    const scale = this.thresholdScale;
    const at = this.thresholdAt;
    const ringRow = outWidth * cout;
    output.fill(0);
    let computed = 0;
    for (let oy = 0; oy < this.outHeight; oy++) {
      const y0 = Math.max(oy * step - this.rows.padBefore, 0);
      const y1 = Math.min(oy * step - this.rows.padBefore + 3, height);
      for (; computed < y1; computed++) {
        this.computeRow(computed, convRow);
        const r0 = (computed % 3) * ringRow;
        for (let ox = 0; ox < outWidth; ox++) {
          const x0 = Math.max(ox * step - this.cols.padBefore, 0);
          const x1 = Math.min(ox * step - this.cols.padBefore + 3, width);
          const r = r0 + ox * cout;
          let i = x0 * rowStride;
          for (let c = 0; c < cout; c++) ring[r + c] = convRow[i + c];
          for (let x = x0 + 1; x < x1; x++) {
            i += rowStride;
            for (let c = 0; c < cout; c++) {
              const v = convRow[i + c];
              if (v > ring[r + c]) ring[r + c] = v;
            }
          }
        }
      }
      for (let ox = 0; ox < outWidth; ox++) {
        let r = (y0 % 3) * ringRow + ox * cout;
        for (let c = 0; c < cout; c++) colMax[c] = ring[r + c];
        for (let y = y0 + 1; y < y1; y++) {
          r = (y % 3) * ringRow + ox * cout;
          for (let c = 0; c < cout; c++) {
            const v = ring[r + c];
            if (v > colMax[c]) colMax[c] = v;
          }
        }
        const o = (oy * outWidth + ox) * wpp;
        for (let c = 0; c < cout; c++) {
          if (scale[c] * colMax[c] >= at[c]) output[o + (c >>> 5)] |= 1 << (c & 31);
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
