import type { BatchNormParams } from './batch-norm';

/** A section's real-valued weights as stored in a checkpoint: name -> float32 tensor. */
export type SectionWeights = Record<string, { shape: number[]; values: Float32Array }>;

/** The weights of one ConvP block: conv [3,3,cin,cout] (HWIO) and its BatchNorm. */
export interface ConvPWeights {
  name: string;
  inChannels: number;
  outChannels: number;
  kernel: Float32Array;
  bn: BatchNormParams;
}

/** The weights of the FC exit head: [inFeatures, classes] and its BatchNorm. */
export interface HeadWeights {
  inFeatures: number;
  classes: number;
  kernel: Float32Array;
  bn: BatchNormParams;
}

function tensor(weights: SectionWeights, name: string, shape: number[]): Float32Array {
  const t = weights[name];
  if (!t) throw new Error(`section weights: missing tensor "${name}" (have: ${Object.keys(weights).sort().join(', ') || 'none'})`);
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!same) throw new Error(`section weights: "${name}" has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (t.values.length !== size) throw new Error(`section weights: "${name}" holds ${t.values.length} values, its shape needs ${size}`);
  return t.values;
}

function batchNorm(weights: SectionWeights, prefix: string, channels: number): BatchNormParams {
  const get = (p: string) => tensor(weights, `${prefix}.bn.${p}`, [channels]);
  return { gamma: get('gamma'), beta: get('beta'), mean: get('mean'), variance: get('variance') };
}

/**
 * The index of the first ConvP block: checkpoints may number blocks from 0 or from 1, so whichever of
 * `convp0.w` / `convp1.w` exists decides.
 */
export function firstBlockIndex(weights: SectionWeights): number {
  if (weights['convp0.w']) return 0;
  if (weights['convp1.w']) return 1;
  throw new Error(`section weights: no ConvP block (expected "convp0.w" or "convp1.w"; have: ${Object.keys(weights).sort().join(', ') || 'none'})`);
}

/** Reads and checks `blocks` ConvP blocks whose first takes `channels` input channels. */
export function readConvPBlocks(weights: SectionWeights, channels: number, blocks: number): ConvPWeights[] {
  if (!Number.isInteger(blocks) || blocks < 1) throw new Error(`blocks must be a positive integer, got ${blocks}`);
  const first = firstBlockIndex(weights);
  const out: ConvPWeights[] = [];
  let cin = channels;
  for (let b = 0; b < blocks; b++) {
    const name = `convp${first + b}`;
    const t = weights[`${name}.w`];
    if (!t) throw new Error(`section weights: missing tensor "${name}.w" for block ${b + 1} of ${blocks}`);
    const cout = t.shape[3];
    const kernel = tensor(weights, `${name}.w`, [3, 3, cin, cout]);
    out.push({ name, inChannels: cin, outChannels: cout, kernel, bn: batchNorm(weights, name, cout) });
    cin = cout;
  }
  return out;
}

/** Reads and checks the FC exit head. */
export function readHead(weights: SectionWeights, inFeatures: number, classes: number): HeadWeights {
  const kernel = tensor(weights, 'fc.w', [inFeatures, classes]);
  return { inFeatures, classes, kernel, bn: batchNorm(weights, 'fc', classes) };
}

/** Converts the model's per-section tensor map (name -> { shape, data }) to SectionWeights. */
export function toSectionWeights(values: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): SectionWeights {
  const out: SectionWeights = {};
  for (const [name, v] of values) out[name] = { shape: v.shape, values: v.data };
  return out;
}
