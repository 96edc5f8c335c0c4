import { batchNormChannel, type BatchNormFormula } from './batch-norm';
import { lowMask, popcount32, wordsFor } from './bits';
import type { HeadWeights } from './section-weights';

/**
 * The FC exit head on +-1 features: sign(weights) linear via XNOR/popcount (an exact integer dot
 * product), then BatchNorm with the chosen backend's float arithmetic, giving float32 class scores.
 */
export class BinaryHead {
  readonly inFeatures: number;
  readonly classes: number;
  private readonly words: number;
  private readonly weightBits: Int32Array;
  private readonly lastMask: number;
  private readonly bn: ((x: number) => number)[];

  constructor(weights: HeadWeights, formula: BatchNormFormula, epsilon: number) {
    const { inFeatures: n, classes } = weights;
    this.inFeatures = n;
    this.classes = classes;
    this.words = wordsFor(n);
    this.lastMask = lowMask(n - 32 * (this.words - 1));
    this.weightBits = new Int32Array(classes * this.words);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < classes; k++) {
        if (weights.kernel[i * classes + k] >= 0) this.weightBits[k * this.words + (i >>> 5)] |= 1 << (i & 31);
      }
    }
    this.bn = Array.from({ length: classes }, (_, k) => batchNormChannel(weights.bn, k, epsilon, formula));
  }

  /** Scores for a dense HWC bit stream of `inFeatures` +-1 features, into `out` (float32, |C|). */
  run(features: Int32Array, out: Float32Array = new Float32Array(this.classes)): Float32Array {
    const { words, weightBits, inFeatures } = this;
    for (let k = 0; k < this.classes; k++) {
      let matches = 0;
      const w = k * words;
      for (let i = 0; i < words - 1; i++) matches += popcount32(~(features[i] ^ weightBits[w + i]));
      matches += popcount32(~(features[words - 1] ^ weightBits[w + words - 1]) & this.lastMask);
      out[k] = this.bn[k](2 * matches - inFeatures);
    }
    return out;
  }
}
