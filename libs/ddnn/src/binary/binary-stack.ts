import { BN_EPSILON } from '../layers/constants';
import { BATCH_NORM_FORMULAS, type BatchNormFormula } from './batch-norm';
import { wordsFor, wordsToBytes } from './bits';
import { BinaryHead } from './binary-head';
import { BinaryInputConvP } from './binary-input-convp';
import type { ConvPLayer } from './convp-layer';
import { FloatInputConvP } from './float-input-convp';
import type { PoolPadding } from './pool-geometry';
import { readConvPBlocks, readHead, type SectionWeights } from './section-weights';

/** Shape and arithmetic options shared by the bit-packed sections. */
export interface BinaryStackOptions {
  height: number;
  width: number;
  /** Input channels of the first block. */
  channels: number;
  blocks: number;
  classes: number;
  /** Max-pool stride: 2 on devices and edges, 1 in the cloud. */
  poolStride?: number;
  /** Max-pool padding: 1 on each side (the paper's and the model's), or tfjs 'same'. */
  poolPadding?: PoolPadding;
  /** Whose BatchNorm rounding to reproduce: the model's batchNormInfer (default) or tf.batchNorm's. */
  batchNorm?: BatchNormFormula;
}

/** What one inference returns: exactly what crosses the network. */
export interface BinaryInference {
  /** |C| float32 class scores (before softmax). */
  scores: Float32Array;
  /** The last block's +-1 map [H', W', f], bit-packed HWC, LSB-first, +1 -> 1: ceil(H'W'f / 8) bytes. */
  features: Uint8Array;
}

function checkDimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** A chain of ConvP blocks plus the FC head, on float or on packed binary input. */
export class BinaryConvStack {
  readonly layers: ConvPLayer[];
  readonly head: BinaryHead;
  /** Shape [H', W', f] of the features the stack emits. */
  readonly featureShape: [number, number, number];
  readonly featureBytes: number;
  private readonly dense: Int32Array;

  constructor(weights: SectionWeights, options: BinaryStackOptions, floatInput: boolean) {
    for (const k of ['height', 'width', 'channels', 'blocks', 'classes'] as const) checkDimension(k, options[k]);
    const formula = options.batchNorm ?? 'layers';
    if (!BATCH_NORM_FORMULAS.includes(formula)) throw new Error(`batchNorm must be one of ${BATCH_NORM_FORMULAS.join(', ')}, got ${String(formula)}`);
    const blocks = readConvPBlocks(weights, options.channels, options.blocks);
    let height = options.height;
    let width = options.width;
    this.layers = blocks.map((block, i) => {
      const layerOptions = {
        height,
        width,
        poolStride: options.poolStride ?? 2,
        poolPadding: options.poolPadding ?? 1,
        formula,
        epsilon: BN_EPSILON,
      };
      const layer = i === 0 && floatInput ? new FloatInputConvP(block, layerOptions) : new BinaryInputConvP(block, layerOptions);
      height = layer.outHeight;
      width = layer.outWidth;
      return layer;
    });
    const last = this.layers[this.layers.length - 1];
    this.featureShape = [last.outHeight, last.outWidth, last.outChannels];
    const bits = last.outHeight * last.outWidth * last.outChannels;
    this.featureBytes = Math.ceil(bits / 8);
    this.dense = new Int32Array(wordsFor(bits));
    this.head = new BinaryHead(readHead(weights, bits, options.classes), formula, BN_EPSILON);
  }

  /** Runs the binary blocks from `from` on, then the head. */
  protected finish(input: Int32Array, from: number, present?: Int32Array): BinaryInference {
    let x = input;
    for (let i = from; i < this.layers.length; i++) {
      x = (this.layers[i] as BinaryInputConvP).run(x, i === from ? present : undefined);
    }
    const last = this.layers[this.layers.length - 1];
    last.denseOutput(this.dense);
    const bits = this.featureShape[0] * this.featureShape[1] * this.featureShape[2];
    return { scores: this.head.run(this.dense), features: wordsToBytes(this.dense, bits) };
  }
}
