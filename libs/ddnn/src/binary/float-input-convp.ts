import { lowMask } from './bits';
import { ConvPLayer, type ConvPLayerOptions } from './convp-layer';
import type { ConvPWeights } from './section-weights';

const FLOAT32_MAX = 3.4028234663852886e38;
// Three 17-bit lanes in a float64; each lane holds a conv output plus LANE_BIAS, so that it is never negative.
const LANE = 2 ** 17;
const LANE2 = 2 ** 34;
const INV_LANE = 2 ** -17;
const INV_LANE2 = 2 ** -34;
const LANE_BIAS = 2 ** 16;
const LANES_BIAS = LANE_BIAS * (1 + LANE + LANE2);
// x + ROUND - ROUND is x rounded to the nearest integer for |x| < 2^51 (Math.round is far slower here).
const ROUND = 1.5 * 2 ** 52;

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
  // Groups of three input channels; per padded pixel and group the eight signed sums +-(v0 +- v1 +- v2) of the
  // quantized pixels, each packed with the same sums of the next two pixels to the right (see fastConvPoolSign).
  private readonly groups: number;
  // Padded columns of `combos` (a multiple of three: every output triple starts at one).
  private readonly packedWidth: number;
  private readonly combos: Float64Array;
  // Per output channel, tap and group: where its signed sum (sign included) sits relative to the window's top-left pixel.
  private readonly tapOffset: Int32Array;
  // Per channel and run: a lane (bias included; down channels negated) at or above `sureAbove` is surely a hit after
  // float32 rounding, at or below `sureBelow` surely not; in between, the exact sum decides.
  private readonly sureAbove: Float64Array;
  private readonly sureBelow: Float64Array;

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
    const triples = Math.ceil(this.width / 3);
    this.packedWidth = 3 * triples;
    this.combos = new Float64Array((this.height + 2) * this.packedWidth * groups * 8);
    this.sureAbove = new Float64Array(cout);
    this.sureBelow = new Float64Array(cout);
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
          // A down channel's hit (conv <= critical) is -conv >= -critical: its packed sums are negated (the other
          // half of the eight), so that every channel's hit is lane >= a bound.
          const negate = (s0 < 0) !== (this.up[co] === 0);
          this.tapOffset[t] = ((ky * this.packedWidth + kx) * groups + g) * 8 + combo + (negate ? 4 : 0);
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
   * The pixels are quantized to integers q = round(v * scale) with |q| small enough that three conv outputs side
   * by side fit in one float64 as 17-bit lanes (q0 + q1 2^17 + q2 2^34, all integers below 2^53, so every sum
   * is exact): one addition advances three outputs. With +-1 weights, a tap's sum over a group of three input
   * channels is +-(q0 +- q1 +- q2): eight packed sums per pixel and group (`combos`), after which every output
   * channel adds nine of them (times the groups) per three outputs. A lane is off the exact sum by at most half a
   * unit per term, and the float32 sum of tfjs-backend-cpu off the exact sum by its rounding bound; a lane that
   * lies within both of the critical value is summed again exactly (float32 after every addition, in the cpu
   * order), so the bits are the exact path's, at a fraction of its cost.
   */
  private fastConvPoolSign(maxAbs: number): void {
    const { height, width, inChannels: cin, outChannels: cout, view, packedWidth: kw, combos, tapOffset, sureAbove, sureBelow } = this;
    const { wordsPerPixel: wpp, stride, output } = this;
    const taps = 9 * cin;
    // |lane - bias| <= taps * qMax < LANE_BIAS: the lanes never borrow from each other.
    const qMax = Math.max(0, Math.floor((LANE_BIAS - 1) / taps) - 1); // 0 (all exact) past 7,281 channels
    const scale = qMax / (maxAbs > 0 ? maxAbs : 1);
    // |float32 sequential sum - exact sum| <= sum_k |partial_k| 2^-24 <= taps (taps + 1) / 2 * maxAbs * 2^-24, doubled.
    const rounding = 2 * ((taps * (taps + 1)) / 2) * 2 ** -24 * maxAbs + Number.MIN_VALUE;
    // |lane - scale * exact sum| <= taps / 2 (each q within half a unit); +2 for the rounding of these products.
    const margin = taps / 2 + 2;
    for (let c = 0; c < cout; c++) {
      // In the packed domain every channel is up (down channels are negated): hit iff lane >= the critical value.
      const critical = this.up[c] === 1 ? this.critical[c] : -this.critical[c];
      if (Number.isNaN(critical)) {
        sureAbove[c] = sureBelow[c] = Infinity; // never a hit
      } else {
        sureAbove[c] = scale * (critical + rounding) + margin + LANE_BIAS;
        sureBelow[c] = scale * (critical - rounding) - margin + LANE_BIAS;
      }
    }
    const groups = this.groups;
    // Per row and group, slide along the padded row with the quantized channels of three pixels in locals.
    const q = (y: number, x: number, ci: number) => (x < width && ci < cin ? view[(y * width + x) * cin + ci] * scale + ROUND - ROUND : 0);
    for (let y = 0; y < height; y++) {
      for (let g = 0; g < groups; g++) {
        const c0 = 3 * g;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let b0 = q(y, 0, c0);
        let b1 = q(y, 0, c0 + 1);
        let b2 = q(y, 0, c0 + 2);
        let o = (((y + 1) * kw) * groups + g) * 8;
        for (let px = 0; px < kw; px++, o += groups * 8) {
          const n0 = q(y, px + 1, c0);
          const n1 = q(y, px + 1, c0 + 1);
          const n2 = q(y, px + 1, c0 + 2);
          // Channel k of padded pixels px, px + 1, px + 2 in three lanes.
          const v0 = a0 + LANE * b0 + LANE2 * n0;
          const v1 = a1 + LANE * b1 + LANE2 * n1;
          const v2 = a2 + LANE * b2 + LANE2 * n2;
          a0 = b0;
          a1 = b1;
          a2 = b2;
          b0 = n0;
          b1 = n1;
          b2 = n2;
          const s0 = v0 + v1 + v2;
          const s1 = v0 - v1 + v2;
          const s2 = v0 + v1 - v2;
          const s3 = v0 - v1 - v2;
          combos[o] = s0;
          combos[o + 1] = s1;
          combos[o + 2] = s2;
          combos[o + 3] = s3;
          combos[o + 4] = -s0;
          combos[o + 5] = -s1;
          combos[o + 6] = -s2;
          combos[o + 7] = -s3;
        }
      }
    }
    const hits = this.hits;
    const terms = 9 * groups;
    for (let y = 0; y < height; y++) {
      for (let x0 = 0; x0 < width; x0 += 3) {
        const base = (y * kw + x0) * groups * 8;
        const o = (y * width + x0) * wpp;
        for (let k = 0; k < wpp; k++) {
          // Hit bits of the triple's three pixels for the channels of word k.
          let h0 = 0;
          let h1 = 0;
          let h2 = 0;
          const end = Math.min(cout, 32 * k + 32);
          for (let c = 32 * k; c < end; c++) {
            const t0 = c * terms;
            let p: number;
            if (groups === 1) {
              p =
                combos[base + tapOffset[t0]] + combos[base + tapOffset[t0 + 1]] + combos[base + tapOffset[t0 + 2]] +
                combos[base + tapOffset[t0 + 3]] + combos[base + tapOffset[t0 + 4]] + combos[base + tapOffset[t0 + 5]] +
                combos[base + tapOffset[t0 + 6]] + combos[base + tapOffset[t0 + 7]] + combos[base + tapOffset[t0 + 8]];
            } else {
              p = 0;
              for (let t = t0; t < t0 + terms; t++) p += combos[base + tapOffset[t]];
            }
            // Unpack the lanes (exact: powers of two and integers below 2^53), each biased to [0, 2^17).
            p += LANES_BIAS;
            const lane2 = Math.floor(p * INV_LANE2);
            const low = p - lane2 * LANE2;
            const lane1 = Math.floor(low * INV_LANE);
            const lane0 = low - lane1 * LANE;
            const above = sureAbove[c];
            const below = sureBelow[c];
            const bit = 1 << (c & 31);
            if (lane0 >= above || (lane0 > below && this.exactHit(y, x0, c))) h0 |= bit;
            if (lane1 >= above || (lane1 > below && x0 + 1 < width && this.exactHit(y, x0 + 1, c))) h1 |= bit;
            if (lane2 >= above || (lane2 > below && x0 + 2 < width && this.exactHit(y, x0 + 2, c))) h2 |= bit;
          }
          hits[o + k] = h0;
          if (x0 + 1 < width) hits[o + wpp + k] = h1;
          if (x0 + 2 < width) hits[o + 2 * wpp + k] = h2;
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

  /** Whether conv output (y, x) of channel c, summed exactly, is a hit (>= critical for up channels, <= for down). */
  private exactHit(y: number, x: number, c: number): boolean {
    const a = this.exactConv(y, x, c);
    return this.up[c] === 1 ? a >= this.critical[c] : a <= this.critical[c];
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
