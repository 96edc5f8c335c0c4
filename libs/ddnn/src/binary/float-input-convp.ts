import { lowMask } from './bits';
import { ConvPLayer, type ConvPLayerOptions } from './convp-layer';
import type { ConvPWeights } from './section-weights';

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * First block of a device: float image in, binary (+-1) weights, so the convolution is only additions
 * and subtractions. Accumulates in float32 in tfjs-backend-cpu's order (kernel row, column, input
 * channel), so the pre-BatchNorm values are bit-identical to tf.conv2d on the cpu backend.
 */
export class FloatInputConvP extends ConvPLayer {
  // sign(w) as +-1 in [tap][cin][cout rounded up to 4], zero-padded, so four output channels share a pass.
  private readonly signs: Float32Array;
  private view: Float32Array = new Float32Array(0);
  // Per channel: the value the pooled max is compared with, and whether the bit is max >= it (else max <= it).
  private readonly critical: Float64Array;
  private readonly up: Uint8Array;
  // Per conv output pixel, wordsPerPixel words: bit c = channel c's comparison with its critical value.
  private readonly hits: Int32Array;
  // Per output word: bits of the channels whose pooled bit is an OR of the window's hits (the rest are an AND).
  private readonly upBits: Int32Array;
  // Groups of three input channels; per padded pixel and group the four signed sums v0 +- v1 +- v2.
  private readonly groups: number;
  private readonly combos: Float64Array;
  // Per output channel, tap and group: where its signed sum (sign included) sits relative to the window's top-left pixel.
  private readonly tapOffset: Int32Array;

  constructor(weights: ConvPWeights, options: ConvPLayerOptions) {
    super(weights, options, false, FLOAT32_MAX, Math.ceil(weights.outChannels / 4) * 4);
    const { inChannels: cin, outChannels: cout, rowStride: cp } = this;
    this.critical = new Float64Array(cout);
    this.up = new Uint8Array(cout);
    for (let c = 0; c < cout; c++) {
      // scale * max >= at: for scale +1, max >= at; for scale -1, max <= -at.
      this.up[c] = this.thresholdScale[c] > 0 ? 1 : 0;
      this.critical[c] = this.thresholdScale[c] * this.thresholdAt[c];
    }
    this.hits = new Int32Array(this.height * this.width * this.wordsPerPixel);
    this.upBits = new Int32Array(this.wordsPerPixel);
    for (let c = 0; c < cout; c++) if (this.up[c]) this.upBits[c >>> 5] |= 1 << (c & 31);
    this.groups = Math.ceil(cin / 3);
    const groups = this.groups;
    this.combos = new Float64Array((this.height + 2) * (this.width + 2) * groups * 8);
    this.tapOffset = new Int32Array(cout * 9 * groups);
    for (let co = 0; co < cout; co++) {
      for (let tap = 0; tap < 9; tap++) {
        const ky = Math.floor(tap / 3);
        const kx = tap % 3;
        for (let g = 0; g < groups; g++) {
          const sign = (ci: number) => (ci < cin && weights.kernel[(tap * cin + ci) * cout + co] < 0 ? -1 : 1);
          const s0 = sign(3 * g);
          // Factor out the first channel's sign: the rest picks one of v0 + v1 + v2, v0 - v1 + v2, v0 + v1 - v2, v0 - v1 - v2.
          const combo = (s0 * sign(3 * g + 1) < 0 ? 1 : 0) + (s0 * sign(3 * g + 2) < 0 ? 2 : 0);
          const t = (co * 9 + tap) * groups + g;
          this.tapOffset[t] = ((ky * (this.width + 2) + kx) * groups + g) * 8 + combo + (s0 < 0 ? 4 : 0);
        }
      }
    }
    this.signs = new Float32Array(9 * cin * cp);
    for (let k = 0; k < 9 * cin; k++) {
      for (let co = 0; co < cout; co++) this.signs[k * cp + co] = weights.kernel[k * cout + co] >= 0 ? 1 : -1;
    }
  }

  /**
   * Runs the block on an H*W*C float view (HWC). Only the sign after the pool and BatchNorm leaves the block,
   * and that is one comparison of each conv output with a per-channel critical value (the pooled max is >= it
   * iff some window value is; <= it iff all are). So the conv is summed in float64 without rounding, and only a
   * value within the rounding-error bound of the critical value is summed again exactly (float32 after every
   * addition, in tfjs-backend-cpu's order): the bits are the exact path's, at a fraction of its cost.
   */
  run(view: Float32Array): Int32Array {
    this.view = view;
    let maxAbs = 0;
    for (let i = 0; i < view.length; i++) {
      const a = Math.abs(view[i]);
      if (a > maxAbs) maxAbs = a;
    }
    // NaN and infinities: only the exact path defines what they do.
    if (Number.isFinite(maxAbs)) this.fastConvPoolSign(maxAbs);
    else this.convPoolSign();
    return this.output;
  }

  /**
   * The comparisons of every conv output with its channel's critical value, then the pool as OR / AND of bits.
   * With +-1 weights, a tap's sum over a group of three input channels is +-(v0 +- v1 +- v2): eight sums per
   * pixel and group, computed once (`combos`, zero-padded by one pixel), after which every output channel adds
   * nine of them (times the groups) instead of multiplying 9 x cin values.
   */
  private fastConvPoolSign(maxAbs: number): void {
    const { height, width, inChannels: cin, outChannels: cout, view, output, wordsPerPixel: wpp, stride, combos, tapOffset } = this;
    const taps = 9 * cin;
    // |float32 sequential sum - exact sum| <= sum_k |partial_k| 2^-24 <= taps (taps + 1) / 2 * maxAbs * 2^-24; the
    // float64 sums add at most taps^2 maxAbs 2^-53. Doubled for margin.
    const bound = 2 * ((taps * (taps + 1)) / 2 * 2 ** -24 + taps * taps * 2 ** -53) * maxAbs + Number.MIN_VALUE;
    const groups = this.groups;
    const pw = width + 2;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * cin;
        let o = ((y + 1) * pw + x + 1) * groups * 8;
        for (let g = 0; g < groups; g++, o += 8) {
          const c0 = 3 * g;
          const v0 = view[i + c0];
          const v1 = c0 + 1 < cin ? view[i + c0 + 1] : 0;
          const v2 = c0 + 2 < cin ? view[i + c0 + 2] : 0;
          combos[o] = v0 + v1 + v2;
          combos[o + 1] = v0 - v1 + v2;
          combos[o + 2] = v0 + v1 - v2;
          combos[o + 3] = v0 - v1 - v2;
          combos[o + 4] = -combos[o];
          combos[o + 5] = -combos[o + 1];
          combos[o + 6] = -combos[o + 2];
          combos[o + 7] = -combos[o + 3];
        }
      }
    }
    const crit = this.critical;
    const up = this.up;
    const hits = this.hits;
    const terms = 9 * groups;
    hits.fill(0);
    for (let c = 0; c < cout; c++) {
      const t0 = c * terms;
      const critical = crit[c];
      const isUp = up[c] === 1;
      const word = c >>> 5;
      const bit = 1 << (c & 31);
      // The common case (up to three input channels): nine signed sums, offsets in locals.
      const [o0, o1, o2, o3, o4, o5, o6, o7, o8] = tapOffset.subarray(t0, t0 + 9);
      for (let y = 0; y < height; y++) {
        let base = y * pw * groups * 8;
        let o = y * width * wpp + word;
        for (let x = 0; x < width; x++, base += groups * 8, o += wpp) {
          let a: number;
          if (groups === 1) {
            a = combos[base + o0] + combos[base + o1] + combos[base + o2] + combos[base + o3] + combos[base + o4] + combos[base + o5] + combos[base + o6] + combos[base + o7] + combos[base + o8];
          } else {
            a = 0;
            for (let t = t0; t < t0 + terms; t++) a += combos[base + tapOffset[t]];
          }
          if (Math.abs(a - critical) <= bound) a = this.exactConv(y, x, c);
          if (isUp ? a >= critical : a <= critical) hits[o] |= bit;
        }
      }
    }
    // The pool, all channels of a word at once: up channels OR their window's hits (some value >= critical), down
    // channels AND them (every value <= critical).
    const { rows, cols, upBits } = this;
    for (let oy = 0; oy < this.outHeight; oy++) {
      const y0 = Math.max(oy * stride - rows.padBefore, 0);
      const y1 = Math.min(oy * stride - rows.padBefore + 3, height);
      for (let ox = 0; ox < this.outWidth; ox++) {
        const x0 = Math.max(ox * stride - cols.padBefore, 0);
        const x1 = Math.min(ox * stride - cols.padBefore + 3, width);
        const out = (oy * this.outWidth + ox) * wpp;
        for (let k = 0; k < wpp; k++) {
          let any = 0;
          let all = -1;
          for (let yy = y0; yy < y1; yy++) {
            for (let xx = x0; xx < x1; xx++) {
              const h = hits[(yy * width + xx) * wpp + k];
              any |= h;
              all &= h;
            }
          }
          output[out + k] = ((any & upBits[k]) | (all & ~upBits[k])) & lowMask(Math.min(32, cout - 32 * k));
        }
      }
    }
  }

  /** One conv output summed exactly as tfjs-backend-cpu does (float32 after every addition). */
  private exactConv(y: number, x: number, c: number): number {
    const { height, width, inChannels: cin, rowStride: cp, signs, view } = this;
    const f32 = Math.fround;
    let a = 0;
    for (let ky = y === 0 ? 1 : 0; ky < (y === height - 1 ? 2 : 3); ky++) {
      for (let kx = x === 0 ? 1 : 0; kx < (x === width - 1 ? 2 : 3); kx++) {
        const i = ((y + ky - 1) * width + x + kx - 1) * cin;
        const wi = (ky * 3 + kx) * cin * cp + c;
        for (let ci = 0; ci < cin; ci++) a = f32(a + view[i + ci] * signs[wi + ci * cp]);
      }
    }
    return a;
  }

  protected computeRow(y: number, row: Float32Array): void {
    const { height, width, inChannels: cin, rowStride: cp, signs, view } = this;
    const f32 = Math.fround;
    const ky0 = y === 0 ? 1 : 0;
    const ky1 = y === height - 1 ? 2 : 3;
    for (let x = 0; x < width; x++) {
      const kx0 = x === 0 ? 1 : 0;
      const kx1 = x === width - 1 ? 2 : 3;
      const o = x * cp;
      for (let g = 0; g < cp; g += 4) {
        // Each partial sum is rounded to float32 in tfjs-backend-cpu's order (row, column, channel).
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let ky = ky0; ky < ky1; ky++) {
          const base = (y + ky - 1) * width;
          for (let kx = kx0; kx < kx1; kx++) {
            const i = (base + x + kx - 1) * cin;
            let wi = (ky * 3 + kx) * cin * cp + g;
            for (let ci = 0; ci < cin; ci++) {
              const v = view[i + ci];
              a0 = f32(a0 + v * signs[wi]);
              a1 = f32(a1 + v * signs[wi + 1]);
              a2 = f32(a2 + v * signs[wi + 2]);
              a3 = f32(a3 + v * signs[wi + 3]);
              wi += cp;
            }
          }
        }
        row[o + g] = a0;
        row[o + g + 1] = a1;
        row[o + g + 2] = a2;
        row[o + g + 3] = a3;
      }
    }
  }
}
