import { appendBits, bytesToWords, extractBits, lowMask, wordsFor } from './bits';
import { BinaryConvStack, type BinaryStackOptions } from './binary-stack';
import type { SectionWeights } from './section-weights';

/** How the upper section combines its inputs' binary maps (AP averages +-1 into non-binary values). */
export type BinaryAggregator = 'CC' | 'MP';

/** Options of a bit-packed edge or cloud section. */
export interface BinaryUpperOptions extends Omit<BinaryStackOptions, 'channels' | 'height' | 'width'> {
  /** Shape [H, W, f] of every input's feature map. */
  inputShape: [number, number, number];
  /** Number of feature messages per sample (devices, or edges in a 3-tier cloud). */
  inputs: number;
  aggregator: BinaryAggregator;
}

/** An edge or cloud section on bit-packed input: feature messages in, class scores and features out. */
export interface BinaryUpperSection {
  readonly featureShape: [number, number, number];
  readonly featureBytes: number;
  /**
   * One sample: one message per input (null for a failed input, which contributes an all-zero map as in
   * the tfjs path). Returns scores before softmax and the section's own packed features.
   */
  infer(features: (Uint8Array | null)[]): { scores: Float32Array; features: Uint8Array };
}

class UpperStack extends BinaryConvStack {
  private readonly inputShape: [number, number, number];
  private readonly inputs: number;
  private readonly aggregator: BinaryAggregator;
  private readonly packed: Int32Array;
  private readonly present: Int32Array;
  private readonly message: Int32Array;
  private readonly wpp: number;

  constructor(weights: SectionWeights, options: BinaryUpperOptions) {
    const [h, w, f] = options.inputShape;
    if (options.aggregator !== 'CC' && options.aggregator !== 'MP') {
      throw new Error(`bit-packed sections aggregate with CC or MP, got ${String(options.aggregator)} (AP averages +-1 maps into non-binary values: use the tfjs section)`);
    }
    if (!Number.isInteger(options.inputs) || options.inputs < 1) throw new Error(`inputs must be a positive integer, got ${options.inputs}`);
    const channels = options.aggregator === 'CC' ? f * options.inputs : f;
    super(weights, { ...options, height: h, width: w, channels }, false);
    this.inputShape = options.inputShape;
    this.inputs = options.inputs;
    this.aggregator = options.aggregator;
    this.wpp = wordsFor(channels);
    this.packed = new Int32Array(h * w * this.wpp);
    this.present = new Int32Array(options.aggregator === 'CC' ? this.wpp : h * w * this.wpp);
    this.message = new Int32Array(wordsFor(h * w * f));
  }

  infer(features: (Uint8Array | null)[]): { scores: Float32Array; features: Uint8Array } {
    const [h, w, f] = this.inputShape;
    const bits = h * w * f;
    if (features.length !== this.inputs) throw new Error(`expected ${this.inputs} feature messages, got ${features.length}`);
    features.forEach((m, j) => {
      if (m && m.length !== Math.ceil(bits / 8)) throw new Error(`feature message ${j} has ${m.length} bytes, expected ${Math.ceil(bits / 8)}`);
    });
    const { packed, present, message, wpp } = this;
    packed.fill(0);
    present.fill(0);
    const pixels = h * w;
    if (this.aggregator === 'CC') {
      // Channel concat, input-major: input j's channel c becomes channel j * f + c.
      features.forEach((m, j) => {
        if (!m) return;
        bytesToWords(m, bits, message);
        for (let c0 = 0; c0 < f; c0 += 32) {
          const n = Math.min(32, f - c0);
          appendBits(present, j * f + c0, lowMask(n), n);
        }
        for (let p = 0; p < pixels; p++) {
          for (let c0 = 0; c0 < f; c0 += 32) {
            const n = Math.min(32, f - c0);
            appendBits(packed, p * wpp * 32 + j * f + c0, extractBits(message, p * f + c0, n), n);
          }
        }
      });
    } else {
      // Element-wise max of +-1 maps: +1 if any live input has +1. A failed input's zero map lifts the
      // remaining -1s to 0 (absent); with every input live, every value is present.
      const anyDead = features.some((m) => !m);
      features.forEach((m) => {
        if (!m) return;
        bytesToWords(m, bits, message);
        for (let p = 0; p < pixels; p++) {
          for (let c0 = 0; c0 < f; c0 += 32) {
            const n = Math.min(32, f - c0);
            appendBits(packed, p * wpp * 32 + c0, extractBits(message, p * f + c0, n), n);
          }
        }
      });
      for (let p = 0; p < pixels; p++) {
        for (let k = 0; k < wpp; k++) {
          const n = Math.min(32, f - 32 * k);
          present[p * wpp + k] = anyDead ? packed[p * wpp + k] : lowMask(n);
        }
      }
    }
    return this.finish(packed, 0, present);
  }
}

/**
 * Builds a bit-packed edge (pool stride 2) or cloud (pool stride 1, the default here) section for CC or MP
 * aggregation: XNOR/popcount ConvP blocks on the aggregated map, then the FC head.
 */
export function createBinaryUpperSection(weights: SectionWeights, options: BinaryUpperOptions): BinaryUpperSection {
  return new UpperStack(weights, { ...options, poolStride: options.poolStride ?? 1 });
}
