import type { Rng } from '@ddnn/datasets';
import { sectionNames, type MapShape, type Shapes, type Topology } from './topology';
import { sectionName } from '@ddnn/contracts';

/** Tensor name prefix of the cloud's shared per-input ConvP blocks (`shared0.w`, ...). */
export const SHARED_PREFIX = 'shared';

/** `binary`: used as sign(w), clipped to [-1, 1]; `float`: used as is (float edge/cloud sections). */
export type ParamKind = 'binary' | 'float' | 'gamma' | 'beta' | 'mean' | 'variance';

/** One weight tensor of a section, as stored in checkpoints. */
export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
}

export interface SectionSpec {
  name: string;
  params: ParamSpec[];
}

function bnParams(prefix: string, channels: number): ParamSpec[] {
  return (['gamma', 'beta', 'mean', 'variance'] as const).map((k) => ({ name: `${prefix}.bn.${k}`, shape: [channels], kind: k }));
}

function convpParams(inChannels: number, filters: number[], kind: 'binary' | 'float' = 'binary', prefix = 'convp'): ParamSpec[] {
  const out: ParamSpec[] = [];
  let cin = inChannels;
  filters.forEach((cout, i) => {
    out.push({ name: `${prefix}${i}.w`, shape: [3, 3, cin, cout], kind }, ...bnParams(`${prefix}${i}`, cout));
    cin = cout;
  });
  return out;
}

/** Hidden layers `hidden{j}` (linear -> BatchNorm -> ReLU, float only), then the exit `fc` (linear -> BatchNorm). */
function headParams(features: MapShape | number, classes: number, kind: 'binary' | 'float' = 'binary', hidden: number[] = []): ParamSpec[] {
  let inFeatures = typeof features === 'number' ? features : features[0] * features[1] * features[2];
  const out: ParamSpec[] = [];
  hidden.forEach((width, j) => {
    out.push({ name: `hidden${j}.w`, shape: [inFeatures, width], kind }, ...bnParams(`hidden${j}`, width));
    inFeatures = width;
  });
  return [...out, { name: 'fc.w', shape: [inFeatures, classes], kind }, ...bnParams('fc', classes)];
}

/** The weight tensors of every section, in checkpoint order. */
export function sectionSpecs(t: Topology, s: Shapes): SectionSpec[] {
  const names = sectionNames(t);
  return names.map((name) => {
    if (name.startsWith('device-')) return { name, params: [...convpParams(s.input[2], t.device.filters), ...headParams(s.deviceFeatures, s.classes)] };
    if (name === 'local') return { name, params: t.local.aggregator === 'CC' ? headParams(t.devices.length * s.classes, s.classes) : [] };
    if (name === 'cloud') {
      const c = t.cloud;
      return {
        name,
        params: [
          ...convpParams(s.cloudMessage[2], c.shared, c.precision, SHARED_PREFIX),
          ...convpParams(s.cloudInput[2], c.filters, c.precision),
          ...headParams(s.cloudFeatures, s.classes, c.precision, c.hidden),
        ],
      };
    }
    const i = t.edges.findIndex((e) => sectionName.edge(e.name) === name);
    const e = t.edges[i];
    const ch = e.aggregator === 'CC' ? s.deviceFeatures[2] * e.devices.length : s.deviceFeatures[2];
    return { name, params: [...convpParams(ch, e.filters, e.precision), ...headParams(s.edgeFeatures[i], s.classes, e.precision, e.hidden)] };
  });
}

/** Float32 values of one section's tensors, keyed by tensor name. */
export type SectionValues = Map<string, { shape: number[]; data: Float32Array }>;

/**
 * Initial values: binary weights ~ N(0, 1/fan_in) clipped to [-1, 1] (LeCun, as Chainer), float weights
 * ~ N(0, 2/fan_in) (He, for ReLU), gamma 1, beta 0, stats 0/1.
 */
export function initialValues(spec: SectionSpec, rng: Rng): SectionValues {
  const values: SectionValues = new Map();
  for (const p of spec.params) {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (p.kind === 'binary') {
      const fanIn = size / p.shape[p.shape.length - 1];
      const std = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < size; i++) data[i] = Math.max(-1, Math.min(1, rng.normal() * std));
    } else if (p.kind === 'float') {
      const std = Math.sqrt(2 / (size / p.shape[p.shape.length - 1]));
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } else if (p.kind === 'gamma' || p.kind === 'variance') {
      data.fill(1);
    }
    values.set(p.name, { shape: p.shape, data });
  }
  return values;
}
