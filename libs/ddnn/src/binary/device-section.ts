import { BinaryConvStack, type BinaryInference, type BinaryStackOptions } from './binary-stack';
import type { FloatInputConvP } from './float-input-convp';
import type { SectionWeights } from './section-weights';

/** A device section on bit-packed weights: float view in, class scores and packed features out. */
export interface BinaryDeviceSection {
  /** Feature map shape [H', W', f] of `features`. */
  readonly featureShape: [number, number, number];
  /** ceil(H' * W' * f / 8): the bytes of `features`. */
  readonly featureBytes: number;
  /** Runs the section on one H*W*C float32 view (HWC, values in [0, 1]). Fresh outputs per call. */
  infer(view: Float32Array): BinaryInference;
}

class DeviceStack extends BinaryConvStack {
  private readonly viewLength: number;

  constructor(weights: SectionWeights, options: BinaryStackOptions) {
    super(weights, options, true);
    this.viewLength = options.height * options.width * options.channels;
  }

  infer(view: Float32Array): BinaryInference {
    if (!(view instanceof Float32Array)) throw new Error('device section: the view must be a Float32Array');
    if (view.length !== this.viewLength) throw new Error(`device section: the view has ${view.length} values, expected ${this.viewLength} (H*W*C)`);
    const first = this.layers[0] as FloatInputConvP;
    return this.finish(first.run(view), 1);
  }
}

/**
 * Builds the bit-packed device section (k ConvP blocks + FC exit head) from its real-valued weights:
 * the first block adds and subtracts float pixels, later blocks and the head use XNOR/popcount.
 */
export function createBinaryDeviceSection(weights: SectionWeights, options: BinaryStackOptions): BinaryDeviceSection {
  return new DeviceStack(weights, { ...options, poolStride: options.poolStride ?? 2 });
}
