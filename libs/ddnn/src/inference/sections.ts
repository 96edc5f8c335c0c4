import * as tf from '@tensorflow/tfjs';
import { ensureBackend } from '../backend';
import type { CheckpointManifest } from '../checkpoint/checkpoint';
import { BN_EPSILON } from '../layers/constants';
import { softmax } from '../entropy';
import { aggregateMaps, cloudForward, convpBlocks, exitHead, type SectionArithmetic, type SectionTensors } from '../model/forward';
import type { SectionValues } from '../model/params';
import { parseTopology, topologyShapes, type Aggregator, type MapShape, type Shapes, type Topology } from '../model/topology';
import { packSigns, unpackSigns } from '../wire';
import { sectionName } from '@ddnn/contracts';

/** What a device (or edge) section sends upward for one sample. */
export interface SectionOutput {
  /** |C| float32 class scores (BatchNorm output, before softmax). */
  scores: Float32Array;
  /** The last ConvP output, bit-packed (HWC order, LSB first, +1 -> 1). */
  features: Uint8Array;
}

function topologyOf(manifest: CheckpointManifest): { topology: Topology; shapes: Shapes } {
  const topology = parseTopology(manifest.topology);
  return { topology, shapes: topologyShapes(topology, manifest.architecture.input as MapShape, manifest.classes.length) };
}

function toTensors(values: SectionValues): SectionTensors {
  const out: SectionTensors = {};
  for (const [name, v] of values) out[name] = tf.tensor(v.data, v.shape, 'float32');
  return out;
}

function mapSize(s: MapShape): number {
  return s[0] * s[1] * s[2];
}

/** Splits a [N, k] row-major array into N Float32Arrays. */
function rows(data: Float32Array, n: number): Float32Array[] {
  const k = data.length / n;
  return Array.from({ length: n }, (_, i) => data.slice(i * k, (i + 1) * k));
}

function packRows(data: Float32Array, n: number): Uint8Array[] {
  const k = data.length / n;
  return Array.from({ length: n }, (_, i) => packSigns(data.subarray(i * k, (i + 1) * k)));
}

/** Unpacks a batch of per-input feature messages into one [N,H,W,f] tensor per input (zeros for a dead input). */
function unpackInputs(batch: (Uint8Array | null)[][], inputs: number, shape: MapShape): tf.Tensor4D[] {
  const size = mapSize(shape);
  return Array.from({ length: inputs }, (_, j) => {
    const data = new Float32Array(batch.length * size);
    batch.forEach((sample, i) => {
      if (sample.length !== inputs) throw new Error(`expected ${inputs} feature messages per sample, got ${sample.length}`);
      const msg = sample[j];
      if (msg) data.set(unpackSigns(msg, size), i * size);
    });
    return tf.tensor4d(data, [batch.length, ...shape]);
  });
}

abstract class TfSection {
  protected readonly weights: SectionTensors;
  protected constructor(values: SectionValues) {
    this.weights = toTensors(values);
  }
  /** Frees the section's tensors. */
  dispose(): void {
    tf.dispose(Object.values(this.weights));
  }
}

/** An end device: its view -> ConvP blocks -> (exit scores, binary features). */
export class DeviceSection extends TfSection {
  readonly name: string;
  readonly featureShape: MapShape;
  readonly inputShape: MapShape;
  private readonly blocks: number;

  constructor(manifest: CheckpointManifest, readonly view: number, values: SectionValues) {
    super(values);
    const { topology, shapes } = topologyOf(manifest);
    if (!topology.devices.includes(view)) throw new Error(`the model has no device for view ${view}`);
    this.name = sectionName.device(view);
    this.featureShape = shapes.deviceFeatures;
    this.inputShape = shapes.input;
    this.blocks = topology.device.filters.length;
  }

  /** One sample: view pixels H*W*C in [0,1] (all zeros for a missing view). */
  infer(view: Float32Array): SectionOutput {
    const out = this.inferBatch(view, 1);
    return { scores: out.scores[0], features: out.features[0] };
  }

  /** n samples stacked in one array of n*H*W*C values. */
  inferBatch(views: Float32Array, n: number): { scores: Float32Array[]; features: Uint8Array[] } {
    if (views.length !== n * mapSize(this.inputShape)) throw new Error(`device ${this.view}: expected ${n}x${this.inputShape.join('x')} values, got ${views.length}`);
    const [scores, maps] = tf.tidy(() => {
      const x = tf.tensor4d(views, [n, ...this.inputShape]);
      const map = convpBlocks(x, this.weights, this.name, this.blocks, 2, { training: false });
      return [exitHead(map, this.weights, this.name, { training: false }), map];
    });
    const s = scores.dataSync() as Float32Array;
    const m = maps.dataSync() as Float32Array;
    tf.dispose([scores, maps]);
    return { scores: rows(s, n), features: packRows(m, n) };
  }
}

/** An edge: its devices' features -> aggregator -> ConvP blocks -> (edge exit scores, binary features). */
export class EdgeSection extends TfSection {
  readonly name: string;
  readonly devices: number[];
  readonly featureShape: MapShape;
  private readonly inputShape: MapShape;
  private readonly aggregator: Aggregator;
  private readonly blocks: number;
  private readonly arithmetic: SectionArithmetic;
  private readonly hidden: number;

  constructor(manifest: CheckpointManifest, edgeName: string, values: SectionValues) {
    super(values);
    const { topology, shapes } = topologyOf(manifest);
    const i = topology.edges.findIndex((e) => e.name === edgeName);
    if (i < 0) throw new Error(`the model has no edge ${edgeName}`);
    this.name = sectionName.edge(edgeName);
    this.devices = topology.edges[i].devices;
    this.aggregator = topology.edges[i].aggregator;
    this.blocks = topology.edges[i].filters.length;
    this.arithmetic = { precision: topology.edges[i].precision, signOut: true };
    this.hidden = topology.edges[i].hidden.length;
    this.inputShape = shapes.deviceFeatures;
    this.featureShape = shapes.edgeFeatures[i];
  }

  /** Feature messages of this edge's devices (in `devices` order; null for a failed device). */
  infer(features: (Uint8Array | null)[]): SectionOutput {
    const out = this.inferBatch([features]);
    return { scores: out.scores[0], features: out.features[0] };
  }

  inferBatch(features: (Uint8Array | null)[][]): { scores: Float32Array[]; features: Uint8Array[] } {
    const n = features.length;
    const [scores, maps] = tf.tidy(() => {
      const inputs = unpackInputs(features, this.devices.length, this.inputShape);
      const map = convpBlocks(aggregateMaps(inputs, this.aggregator), this.weights, this.name, this.blocks, 2, { training: false }, false, undefined, this.arithmetic);
      return [exitHead(map, this.weights, this.name, { training: false }, this.arithmetic, this.hidden), map];
    });
    const s = scores.dataSync() as Float32Array;
    const m = maps.dataSync() as Float32Array;
    tf.dispose([scores, maps]);
    return { scores: rows(s, n), features: packRows(m, n) };
  }
}

/** The cloud: device (2-tier) or edge (3-tier) features -> aggregator -> ConvP blocks -> hidden layers -> exit (binary or float). */
export class CloudSection extends TfSection {
  /** Number of feature messages per sample: devices (2-tier) or edges (3-tier), in topology order. */
  readonly inputs: number;
  private readonly inputShape: MapShape;
  private readonly spec: Topology['cloud'];

  constructor(manifest: CheckpointManifest, values: SectionValues) {
    super(values);
    const { topology, shapes } = topologyOf(manifest);
    this.inputs = topology.edges.length > 0 ? topology.edges.length : topology.devices.length;
    this.inputShape = topology.edges.length > 0 ? shapes.edgeFeatures[0] : shapes.deviceFeatures;
    this.spec = topology.cloud;
  }

  /** Class probabilities for one sample (null = failed input, aggregated as an all-zero map). */
  infer(features: (Uint8Array | null)[]): Float32Array {
    return this.inferBatch([features])[0];
  }

  inferBatch(features: (Uint8Array | null)[][]): Float32Array[] {
    const n = features.length;
    const scores = tf.tidy(() => {
      const inputs = unpackInputs(features, this.inputs, this.inputShape);
      return cloudForward(this.spec, this.weights, inputs, { training: false });
    });
    const s = scores.dataSync() as Float32Array;
    scores.dispose();
    return rows(s, n).map((r) => softmax(r));
  }
}

/** The local aggregator: fuses the devices' score vectors (null = failed device) into class probabilities. */
export type LocalAggregator = (scores: (Float32Array | null)[]) => Float32Array;

/**
 * MP = element-wise max and AP = mean over the live devices (uniform probabilities when none is live);
 * CC = concat (zeros for a failed device) -> sign(W) linear -> BatchNorm. Then softmax. Plain JS, float64 inside.
 */
export function createLocalAggregator(manifest: CheckpointManifest, values: SectionValues): LocalAggregator {
  const { topology } = topologyOf(manifest);
  const classes = manifest.classes.length;
  const devices = topology.devices.length;
  const agg = topology.local.aggregator;
  const get = (name: string) => {
    const v = values.get(name);
    if (!v) throw new Error(`local section lacks tensor ${name}`);
    return v.data;
  };
  const cc =
    agg === 'CC'
      ? {
          w: get('fc.w'),
          gamma: get('fc.bn.gamma'),
          beta: get('fc.bn.beta'),
          mean: get('fc.bn.mean'),
          variance: get('fc.bn.variance'),
        }
      : null;
  return (scores) => {
    if (scores.length !== devices) throw new Error(`local aggregator expects ${devices} score vectors, got ${scores.length}`);
    for (const s of scores) if (s && s.length !== classes) throw new Error(`a score vector has ${s.length} values, expected ${classes}`);
    const fused = new Float64Array(classes);
    if (cc) {
      for (let c = 0; c < classes; c++) {
        let z = 0;
        scores.forEach((s, d) => {
          if (!s) return;
          for (let k = 0; k < classes; k++) z += s[k] * (cc.w[(d * classes + k) * classes + c] >= 0 ? 1 : -1);
        });
        fused[c] = (z - cc.mean[c]) * (cc.gamma[c] / Math.sqrt(cc.variance[c] + BN_EPSILON)) + cc.beta[c];
      }
      return softmax(fused);
    }
    const live = scores.filter((s): s is Float32Array => s !== null);
    if (live.length === 0) return new Float32Array(classes).fill(1 / classes);
    for (let c = 0; c < classes; c++) {
      if (agg === 'MP') fused[c] = Math.max(...live.map((s) => s[c]));
      else fused[c] = live.reduce((a, s) => a + s[c], 0) / live.length;
    }
    return softmax(fused);
  };
}

/** Every section of a model, ready for inference in one process (the orchestrator splits them across processes). */
export interface ModelSections {
  devices: Map<number, DeviceSection>;
  localAggregator: LocalAggregator;
  edges: Map<string, EdgeSection>;
  cloud: CloudSection;
  dispose(): void;
}

/** Opens the device section of `view` (initialises the tfjs backend first). */
export async function openDeviceSection(manifest: CheckpointManifest, view: number, values: SectionValues): Promise<DeviceSection> {
  await ensureBackend();
  return new DeviceSection(manifest, view, values);
}

/** Opens an edge section by edge name. */
export async function openEdgeSection(manifest: CheckpointManifest, edgeName: string, values: SectionValues): Promise<EdgeSection> {
  await ensureBackend();
  return new EdgeSection(manifest, edgeName, values);
}

/** Opens the cloud section. */
export async function openCloudSection(manifest: CheckpointManifest, values: SectionValues): Promise<CloudSection> {
  await ensureBackend();
  return new CloudSection(manifest, values);
}

/** Opens every section of a model held in memory. */
export async function openSections(manifest: CheckpointManifest, sections: Map<string, SectionValues>): Promise<ModelSections> {
  await ensureBackend();
  const { topology } = topologyOf(manifest);
  const need = (name: string) => {
    const v = sections.get(name);
    if (!v) throw new Error(`model has no section ${name}`);
    return v;
  };
  const devices = new Map(topology.devices.map((v) => [v, new DeviceSection(manifest, v, need(sectionName.device(v)))] as const));
  const edges = new Map(topology.edges.map((e) => [e.name, new EdgeSection(manifest, e.name, need(sectionName.edge(e.name)))] as const));
  const cloud = new CloudSection(manifest, need('cloud'));
  return {
    devices,
    localAggregator: createLocalAggregator(manifest, need('local')),
    edges,
    cloud,
    dispose: () => {
      devices.forEach((d) => d.dispose());
      edges.forEach((e) => e.dispose());
      cloud.dispose();
    },
  };
}
