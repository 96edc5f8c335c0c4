import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { encodeCheckpoint } from '../checkpoint/checkpoint';
import { softmax } from '../entropy';
import { createLocalAggregator } from '../inference/sections';
import { randomModel } from '../testing/random-model';
import { aggregateMaps, aggregateScores, type SectionTensors } from './forward';
import { AGGREGATORS, parseTopology } from './topology';

beforeAll(async () => {
  await initBackend('wasm');
});

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('feature-map aggregators (cloud and edge)', () => {
  const a = () => tf.tensor4d([1, -1, 1, 1], [2, 1, 1, 2]);
  const b = () => tf.tensor4d([-1, -1, 1, -1], [2, 1, 1, 2]);

  it('CC concatenates channels input by input', () => {
    const cc = aggregateMaps([a(), b()], 'CC');
    expect(cc.shape).toEqual([2, 1, 1, 4]);
    expect(values(cc)).toEqual([1, -1, -1, -1, 1, 1, 1, -1]);
  });

  it('MP takes the element-wise max and AP the mean; a failed input is all zeros', () => {
    expect(values(aggregateMaps([a(), b()], 'MP'))).toEqual([1, -1, 1, 1]);
    expect(values(aggregateMaps([a(), b()], 'AP'))).toEqual([0, -1, 1, 0]);
    const dead = tf.zeros([2, 1, 1, 2]) as tf.Tensor4D;
    expect(values(aggregateMaps([b(), dead], 'MP'))).toEqual([0, 0, 1, 0]);
  });
});

describe('score aggregators (local exit)', () => {
  const s1 = () => tf.tensor2d([1, 2, 3, -1, 0, 4], [2, 3]);
  const s2 = () => tf.tensor2d([3, 0, -2, 2, 2, 2], [2, 3]);
  const mode = { training: false };

  it('MP / AP over every device, and over the live ones only when masks mark failures', () => {
    expect(values(aggregateScores([s1(), s2()], null, 'MP', {}, mode))).toEqual([3, 2, 3, 2, 2, 4]);
    expect(values(aggregateScores([s1(), s2()], null, 'AP', {}, mode))).toEqual([2, 1, 0.5, 0.5, 1, 3]);
    const masks = [tf.tensor2d([1, 0], [2, 1]), tf.tensor2d([0, 1], [2, 1])];
    expect(values(aggregateScores([s1(), s2()], masks, 'MP', {}, mode))).toEqual([1, 2, 3, 2, 2, 2]);
    expect(values(aggregateScores([s1(), s2()], masks, 'AP', {}, mode))).toEqual([1, 2, 3, 2, 2, 2]);
  });

  it.each(AGGREGATORS)('the JS local aggregator (%s) equals the tfjs path, with and without a failed device', (agg) => {
    const topology = parseTopology({ devices: [0, 1, 2], local: { aggregator: agg } });
    const model = randomModel(topology, [8, 8, 3], 3, 11);
    const manifest = encodeCheckpoint(model).manifest;
    const local = createLocalAggregator(manifest, model.sections.get('local')!);
    const weights: SectionTensors = {};
    for (const [k, v] of model.sections.get('local')!) weights[k] = tf.tensor(v.data, v.shape);
    const rng = new Rng(5);
    const scores = [0, 1, 2].map(() => Float32Array.from({ length: 3 }, () => rng.normal() * 3));
    for (const failed of [-1, 1]) {
      const live = scores.map((s, i) => (i === failed ? null : s));
      const masks = failed < 0 ? null : [0, 1, 2].map((i) => tf.tensor2d([i === failed ? 0 : 1], [1, 1]));
      const ref = aggregateScores(scores.map((s) => tf.tensor2d(s, [1, 3])), masks, agg, weights, mode);
      const expected = softmax(ref.dataSync());
      const got = local(live);
      for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(expected[c], 5);
    }
    expect(() => local([scores[0]])).toThrow(/expects 3 score vectors/);
  });

  it('MP/AP with every device failed answer uniform probabilities', () => {
    const model = randomModel(parseTopology({ devices: [0, 1] }), [8, 8, 3], 3);
    const local = createLocalAggregator(encodeCheckpoint(model).manifest, model.sections.get('local')!);
    expect(Array.from(local([null, null]))).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
  });
});
