import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddnn/datasets';
import { batchNormInfer, batchNormTrain, type BatchStats } from '../layers/batchnorm';
import { signOf, signSte } from '../layers/binarize';
import { binaryConv, binaryDense, floatConv } from '../layers/conv';
import { maxPool3x3 } from '../layers/maxpool';
import { SHARED_PREFIX } from './params';
import type { Aggregator, CloudSpec, Precision, Topology } from './topology';
import { sectionName } from '@ddnn/contracts';

/** The tensors of one section, keyed by checkpoint tensor name (tf.Variables while training). */
export type SectionTensors = Record<string, tf.Tensor>;

/** Training mode uses batch statistics (optionally reported); inference uses the stored mean/variance. */
export interface ForwardMode {
  training: boolean;
  onStats?: (section: string, prefix: string, stats: BatchStats) => void;
  /** Training only: each unit of a float hidden layer is zeroed with probability `rate` (inverted drop-out, seeded). */
  hiddenDropout?: { rate: number; rng: Rng };
  /** Training only: the device exits read the devices' features without passing gradient into them. */
  detachDeviceExits?: boolean;
}

/** Inverted drop-out: keeps each unit with probability 1 - rate and scales it by 1 / (1 - rate). */
function dropUnits(h: tf.Tensor2D, rate: number, rng: Rng): tf.Tensor2D {
  const keep = 1 - rate;
  const mask = new Float32Array(h.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.chance(keep) ? 1 / keep : 0;
  return tf.mul(h, tf.tensor2d(mask, h.shape)) as tf.Tensor2D;
}

function batchNorm(mode: ForwardMode, section: string, w: SectionTensors, prefix: string, x: tf.Tensor): tf.Tensor {
  const gamma = w[`${prefix}.bn.gamma`] as tf.Tensor1D;
  const beta = w[`${prefix}.bn.beta`] as tf.Tensor1D;
  if (mode.training) return batchNormTrain(x, gamma, beta, mode.onStats && ((s) => mode.onStats?.(section, prefix, s)));
  return batchNormInfer(x, gamma, beta, w[`${prefix}.bn.mean`] as tf.Tensor1D, w[`${prefix}.bn.variance`] as tf.Tensor1D);
}

/** How a section computes: binary (the paper) or float; `signOut` keeps a float section's output binary (an edge's wire). */
export interface SectionArithmetic {
  precision: Precision;
  signOut?: boolean;
}

const BINARY: SectionArithmetic = { precision: 'binary' };

/**
 * ConvP blocks: conv 3x3 -> max-pool 3x3 pad 1 (stride 2 on devices/edges, 1 or 2 in the cloud) -> BatchNorm ->
 * activation. Binary: sign(w) and sign activations. Float: real weights and ReLU (sign after the last block when
 * `signOut`). `inputIsData` spares the first conv its input gradient; `preparedInput` is its prepareWeightGradInput.
 */
export function convpBlocks(
  x: tf.Tensor4D,
  w: SectionTensors,
  section: string,
  blocks: number,
  stride: number,
  mode: ForwardMode,
  inputIsData = false,
  preparedInput?: tf.Tensor4D,
  arithmetic: SectionArithmetic = BINARY,
  prefix = 'convp',
): tf.Tensor4D {
  const binary = arithmetic.precision === 'binary';
  let h = x;
  for (let i = 0; i < blocks; i++) {
    const weight = w[`${prefix}${i}.w`] as tf.Tensor4D;
    const signed = binary || (arithmetic.signOut === true && i === blocks - 1);
    if (mode.training) {
      const needsGrad = !(i === 0 && inputIsData);
      const conv = binary ? binaryConv(h, weight, needsGrad, i === 0 ? preparedInput : undefined) : floatConv(h, weight, needsGrad);
      const z = batchNorm(mode, section, w, `${prefix}${i}`, maxPool3x3(conv, stride));
      h = (signed ? signSte(z) : tf.relu(z)) as tf.Tensor4D;
    } else {
      const conv = tf.conv2d(h, (binary ? signOf(weight) : weight) as tf.Tensor4D, 1, 1);
      const z = batchNorm(mode, section, w, `${prefix}${i}`, tf.maxPool(conv, 3, stride, 1));
      h = (signed ? signOf(z) : tf.relu(z)) as tf.Tensor4D;
    }
  }
  return h;
}

function linear(x: tf.Tensor2D, weight: tf.Tensor2D, binary: boolean, mode: ForwardMode, inputGrad = true): tf.Tensor2D {
  if (!binary) return tf.matMul(x, weight);
  return mode.training ? binaryDense(x, weight, inputGrad) : tf.matMul(x, signOf(weight) as tf.Tensor2D);
}

/**
 * Exit head: flatten (H, W, C order) -> [linear -> BatchNorm -> ReLU per hidden layer] -> linear -> BatchNorm;
 * returns class scores [N, C]. Binary sections use sign(w) and have no hidden layers. `inputGrad` false (binary
 * heads): the head trains its own weights but passes no gradient into `features`.
 */
export function exitHead(features: tf.Tensor, w: SectionTensors, section: string, mode: ForwardMode, arithmetic: SectionArithmetic = BINARY, hidden = 0, inputGrad = true): tf.Tensor2D {
  const binary = arithmetic.precision === 'binary';
  let h = tf.reshape(features, [features.shape[0], -1]) as tf.Tensor2D;
  for (let j = 0; j < hidden; j++) {
    h = tf.relu(batchNorm(mode, section, w, `hidden${j}`, linear(h, w[`hidden${j}.w`] as tf.Tensor2D, binary, mode, j > 0 || inputGrad))) as tf.Tensor2D;
    const drop = mode.training ? mode.hiddenDropout : undefined;
    if (drop && drop.rate > 0) h = dropUnits(h, drop.rate, drop.rng);
  }
  return batchNorm(mode, section, w, 'fc', linear(h, w['fc.w'] as tf.Tensor2D, binary, mode, inputGrad || hidden > 0)) as tf.Tensor2D;
}

/** Aggregates feature maps [N,H,W,f] of several inputs: CC = channel concat (input-major), MP = max, AP = mean. */
export function aggregateMaps(maps: tf.Tensor4D[], agg: Aggregator): tf.Tensor4D {
  if (maps.length === 1) return maps[0];
  if (agg === 'MP') return maps.reduce((a, b) => tf.maximum(a, b));
  if (agg === 'AP') return tf.div(tf.addN(maps), maps.length) as tf.Tensor4D;
  // A channel-axis concat of rank-4 maps is slow on wasm; concat on axis 0 + one rank-3 transpose is not.
  const [n, h, w, f] = maps[0].shape;
  const stacked = tf.concat(maps.map((m) => tf.reshape(m, [1, n * h * w, f])), 0);
  return tf.reshape(tf.transpose(stacked, [1, 0, 2]), [n, h, w, f * maps.length]) as tf.Tensor4D;
}

/**
 * Aggregates device class scores [N,C] in training: MP/AP over the live devices (mask [N,1] of 1/0 per device,
 * or all live when masks is null), CC = concat (a dead device's slot is zeros) -> binary FC -> BatchNorm.
 */
export function aggregateScores(
  scores: tf.Tensor2D[],
  masks: tf.Tensor2D[] | null,
  agg: Aggregator,
  local: SectionTensors,
  mode: ForwardMode,
): tf.Tensor2D {
  if (agg === 'CC') {
    const live = masks ? scores.map((s, i) => tf.mul(s, masks[i]) as tf.Tensor2D) : scores;
    return exitHead(tf.concat(live, 1), local, 'local', mode);
  }
  if (!masks) return agg === 'MP' ? scores.reduce((a, b) => tf.maximum(a, b)) : (tf.div(tf.addN(scores), scores.length) as tf.Tensor2D);
  if (agg === 'MP') {
    // Dead devices get -1e9 so they never win; a live device's scores pass unchanged.
    return scores.map((s, i) => tf.add(s, tf.mul(tf.sub(masks[i], 1), 1e9)) as tf.Tensor2D).reduce((a, b) => tf.maximum(a, b));
  }
  const total = tf.addN(scores.map((s, i) => tf.mul(s, masks[i])));
  return tf.div(total, tf.maximum(tf.addN(masks), 1)) as tf.Tensor2D;
}

/** [N,1]: 1 where a message map holds anything, 0 where it is all zeros (a failed input: live features are +-1). */
function liveOf(x: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(tf.sign(tf.max(tf.abs(x), [1, 2, 3])), [-1, 1]) as tf.Tensor2D;
}

/**
 * AP over the live inputs of `all` ([k*N,H,W,C], input-major): one batched matMul of per-sample weights [N,1,k] with the
 * maps laid out [N,k,HWC]. Slicing the k maps apart, masking and adding them costs several times more on wasm,
 * forward and backward (each slice's gradient pads a zero tensor of the whole stack).
 */
function liveMean(all: tf.Tensor4D, live: tf.Tensor2D[]): tf.Tensor4D {
  const k = live.length;
  const [kn, h, w, c] = all.shape;
  const n = kn / k;
  const weights = tf.reshape(tf.concat(live, 1), [n, 1, k]) as tf.Tensor3D;
  const byInput = tf.transpose(tf.reshape(all, [k, n, h * w * c]), [1, 0, 2]) as tf.Tensor3D;
  const sum = tf.reshape(tf.matMul(weights, byInput), [n, h, w, c]);
  return tf.div(sum, tf.reshape(tf.maximum(tf.addN(live), 1), [n, 1, 1, 1])) as tf.Tensor4D;
}

/**
 * The cloud's shared blocks on every input at once (the inputs stacked on the batch axis, so one set of weights and
 * one BatchNorm see every view alike), then the aggregate over the live inputs only: a failed input's slot is zeros
 * (CC), it never wins (MP), it is not counted (AP). `known` gives the live masks when the caller has them (training's
 * device drop-out): measured from the maps they would join the gradient tape, whose Max gradient (a broadcast
 * Equal) was the costliest kernel of a training step.
 */
function sharedThenAggregate(c: CloudSpec, w: SectionTensors, inputs: tf.Tensor4D[], mode: ForwardMode, known?: tf.Tensor2D[]): tf.Tensor4D {
  const n = inputs[0].shape[0];
  const all = convpBlocks(tf.concat(inputs, 0), w, 'cloud', c.shared.length, c.poolStride, mode, false, undefined, c, SHARED_PREFIX);
  const live = known ?? inputs.map(liveOf);
  if (c.aggregator === 'AP' && inputs.length > 1) return liveMean(all, live);
  const liveMaps = live.map((l) => tf.reshape(l, [-1, 1, 1, 1]) as tf.Tensor4D);
  const maps = inputs.map((_, i) => tf.mul(tf.slice(all, [i * n, 0, 0, 0], [n, -1, -1, -1]), liveMaps[i]) as tf.Tensor4D);
  if (maps.length === 1 || c.aggregator === 'CC') return aggregateMaps(maps, 'CC');
  const masked = maps.map((m, i) => tf.add(m, tf.mul(tf.sub(liveMaps[i], 1), 1e9)) as tf.Tensor4D);
  return tf.mul(masked.reduce((a, b) => tf.maximum(a, b)), tf.minimum(tf.addN(liveMaps), 1)) as tf.Tensor4D;
}

/**
 * The cloud section on its input messages' maps (devices', or edges' in 3 tiers; all zeros = failed): class scores.
 * `live`: [N,1] per input, 1 where it delivered features, when the caller knows it (else measured from the maps).
 */
export function cloudForward(c: CloudSpec, w: SectionTensors, inputs: tf.Tensor4D[], mode: ForwardMode, live?: tf.Tensor2D[]): tf.Tensor2D {
  const fused = c.shared.length ? sharedThenAggregate(c, w, inputs, mode, live) : aggregateMaps(inputs, c.aggregator);
  const map = convpBlocks(fused, w, 'cloud', c.filters.length, c.poolStride, mode, false, undefined, c);
  return exitHead(map, w, 'cloud', mode, c, c.hidden.length);
}

/** Per-batch inputs of the whole-model forward pass. */
export interface ModelInputs {
  /** One [N,H,W,C] view tensor per device (topology order). */
  views: tf.Tensor4D[];
  /** prepareWeightGradInput of each view (training only). */
  prepared?: tf.Tensor4D[];
  /** Per device, [N,1] with 0 where that device is treated as failed (simulated drop-out), or null. */
  liveMasks?: tf.Tensor2D[] | null;
}

/** Class scores of every exit [N, C]. */
export interface ExitScores {
  devices: tf.Tensor2D[];
  local: tf.Tensor2D;
  edges: tf.Tensor2D[];
  cloud: tf.Tensor2D;
}

/** The whole DDNN in one graph (training and calibration); a failed device sends zero features. */
export function forwardModel(t: Topology, weights: Record<string, SectionTensors>, inputs: ModelInputs, mode: ForwardMode): ExitScores {
  const masks = inputs.liveMasks ?? null;
  const deviceMaps: tf.Tensor4D[] = [];
  const deviceScores: tf.Tensor2D[] = [];
  t.devices.forEach((view, i) => {
    const name = sectionName.device(view);
    const w = weights[name];
    const map = convpBlocks(inputs.views[i], w, name, t.device.filters.length, 2, mode, true, inputs.prepared?.[i]);
    deviceScores.push(exitHead(map, w, name, mode, BINARY, 0, !(mode.training && mode.detachDeviceExits)));
    deviceMaps.push(masks ? (tf.mul(map, tf.reshape(masks[i], [-1, 1, 1, 1])) as tf.Tensor4D) : map);
  });
  const local = aggregateScores(deviceScores, masks, t.local.aggregator, weights['local'], mode);
  const edgeScores: tf.Tensor2D[] = [];
  let cloudInputs = deviceMaps;
  if (t.edges.length > 0) {
    cloudInputs = t.edges.map((e) => {
      const name = sectionName.edge(e.name);
      const maps = e.devices.map((d) => deviceMaps[t.devices.indexOf(d)]);
      const arithmetic: SectionArithmetic = { precision: e.precision, signOut: true };
      const out = convpBlocks(aggregateMaps(maps, e.aggregator), weights[name], name, e.filters.length, 2, mode, false, undefined, arithmetic);
      edgeScores.push(exitHead(out, weights[name], name, mode, arithmetic, e.hidden.length));
      return out;
    });
  }
  // Devices' maps are +-1 where live, so the drop-out masks are exactly their live masks (edges' are measured).
  const live = t.edges.length === 0 && t.cloud.shared.length ? (masks ?? t.devices.map(() => tf.ones([inputs.views[0].shape[0], 1]) as tf.Tensor2D)) : undefined;
  return { devices: deviceScores, local, edges: edgeScores, cloud: cloudForward(t.cloud, weights['cloud'], cloudInputs, mode, live) };
}
