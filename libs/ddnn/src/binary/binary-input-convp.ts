import { appendBits, lowMask, popcount32, wordsFor } from './bits';
import { ConvPLayer, type ConvPLayerOptions } from './convp-layer';
import type { ConvPWeights } from './section-weights';

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
  private readonly allChannels: Int32Array;
  private input: Int32Array = new Int32Array(0);
  private present: Int32Array = new Int32Array(0);

  constructor(weights: ConvPWeights, options: ConvPLayerOptions) {
    super(weights, options, true, 9 * weights.inChannels, weights.outChannels);
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
    this.allChannels = new Int32Array(this.inWordsPerPixel);
    for (let k = 0; k < this.inWordsPerPixel; k++) this.allChannels[k] = lowMask(Math.min(32, cin - 32 * k));
  }

  /**
   * Runs the block on packed +-1 input (inWordsPerPixel words per pixel). `present` marks the values
   * that exist, one bit per channel (inWordsPerPixel words) or per value (same length as `input`);
   * absent ones count as 0, as a dead device's zero features do.
   */
  run(input: Int32Array, present: Int32Array = this.allChannels): Int32Array {
    const { height, width, inWordsPerPixel: wpp } = this;
    if (input.length !== height * width * wpp) throw new Error(`binary ConvP: input has ${input.length} words, expected ${height * width * wpp}`);
    if (present.length !== input.length && present.length !== wpp) {
      throw new Error(`binary ConvP: presence mask has ${present.length} words, expected ${wpp} or ${input.length}`);
    }
    this.input = input;
    this.present = present;
    this.convPoolSign();
    return this.output;
  }

  protected computeRow(y: number, row: Float32Array): void {
    const { height, width, inChannels: cin, outChannels: cout, inWordsPerPixel: wpp, patchWords: pw } = this;
    const { patch, mask, weightBits, input, present } = this;
    const perValue = present.length === input.length;
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
      const o = x * cout;
      for (let co = 0; co < cout; co++) {
        let matches = 0;
        const w = co * pw;
        for (let k = 0; k < pw; k++) matches += popcount32(~(patch[k] ^ weightBits[w + k]) & mask[k]);
        row[o + co] = 2 * matches - valid;
      }
    }
  }
}
