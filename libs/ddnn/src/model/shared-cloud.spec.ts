import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { randomModel } from '../testing/random-model';
import { cloudForward, type SectionTensors } from './forward';
import { sectionSpecs } from './params';
import { parseTopology, topologyShapes, type Aggregator } from './topology';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Random +-1 maps [n, 4, 4, 4]: what devices send. */
function messages(count: number, n: number, seed: number): tf.Tensor4D[] {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 < 0.5 ? -1 : 1);
  return Array.from({ length: count }, () => tf.tensor4d(Float32Array.from({ length: n * 64 }, next), [n, 4, 4, 4]));
}

function cloudOf(aggregator: Aggregator) {
  const topology = parseTopology({ devices: [0, 1, 2], cloud: { shared: [6], aggregator, precision: 'float', filters: [5], poolStride: 2, hidden: [7] } });
  const model = randomModel(topology, [8, 8, 3], 3, 5);
  const w: SectionTensors = {};
  for (const [k, v] of model.sections.get('cloud')!) w[k] = tf.tensor(v.data, v.shape);
  return (inputs: tf.Tensor4D[]) => Array.from(cloudForward(topology.cloud, w, inputs, { training: false }).dataSync());
}

function expectClose(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4));
}

describe('a cloud with shared per-input blocks', () => {
  it('has one filter bank for every input (its parameters do not grow with the inputs before the aggregator)', () => {
    const params = (devices: number[]) => {
      const t = parseTopology({ devices, cloud: { shared: [6], aggregator: 'AP', precision: 'float', filters: [5] } });
      return sectionSpecs(t, topologyShapes(t, [8, 8, 3], 3)).find((s) => s.name === 'cloud')!.params;
    };
    expect(params([0, 1]).map((p) => p.shape)).toEqual(params([0, 1, 2, 3, 4]).map((p) => p.shape));
    expect(params([0, 1]).find((p) => p.name === 'shared0.w')!.shape).toEqual([3, 3, 4, 6]);
    expect(params([0, 1]).find((p) => p.name === 'convp0.w')!.shape).toEqual([3, 3, 6, 5]);
  });

  it.each(['AP', 'MP'] as Aggregator[])('%s: treats the inputs alike and leaves a failed (all-zero) input out', (agg) => {
    const cloud = cloudOf(agg);
    const [a, b, c] = messages(3, 5, 11);
    const dead = tf.zerosLike(c);
    expectClose(cloud([a, b, c]), cloud([c, a, b]));
    expectClose(cloud([a, dead, c]), cloud([a, c]));
    expect(cloud([a, dead, c])).not.toEqual(cloud([a, b, c]));
  });

  it.each(['AP', 'MP', 'CC'] as Aggregator[])('%s in training: live masks given by the caller give the values and gradients measured ones do', (agg) => {
    const topology = parseTopology({ devices: [0, 1, 2], cloud: { shared: [6], aggregator: agg, precision: 'float', filters: [5], poolStride: 2, hidden: [7] } });
    const model = randomModel(topology, [8, 8, 3], 3, 7);
    const values = model.sections.get('cloud')!;
    const names = ['shared0.w', 'convp0.w', 'fc.w'];
    const [a, b] = messages(2, 5, 13);
    const dead = tf.zerosLike(a);
    const live = [1, 0, 1].map((v) => tf.fill([5, 1], v) as tf.Tensor2D);
    const run = (known: boolean) =>
      tf.tidy(() => {
        const f = (x0: tf.Tensor, x1: tf.Tensor, ...weights: tf.Tensor[]) => {
          const w: SectionTensors = {};
          for (const [k, v] of values) w[k] = tf.tensor(v.data, v.shape);
          names.forEach((n, i) => (w[n] = weights[i]));
          const scores = cloudForward(topology.cloud, w, [x0 as tf.Tensor4D, dead, x1 as tf.Tensor4D], { training: true }, known ? live : undefined);
          return tf.sum(tf.mul(scores, tf.range(1, 16).reshape([5, 3])));
        };
        const weights = names.map((n) => tf.tensor(values.get(n)!.data, values.get(n)!.shape));
        const { value, grads } = tf.valueAndGrads(f)([a, b, ...weights]);
        return [value, ...grads].map((t) => Array.from(t.dataSync()));
      });
    const measured = run(false);
    const given = run(true);
    given.forEach((g, i) => expectClose(g, measured[i]));
    expect(measured[3].some((v) => v !== 0)).toBe(true);
  });

  it('rejects a shared block list that is not a list of filter counts', () => {
    expect(() => parseTopology({ cloud: { shared: [0] } })).toThrow(/cloud\.shared/);
    expect(parseTopology({}).cloud.shared).toEqual([]);
  });
});
