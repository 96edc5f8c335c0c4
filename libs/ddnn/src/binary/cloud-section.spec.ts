import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { packSigns } from '../wire';
import { createBinaryUpperSection, type BinaryAggregator } from './cloud-section';
import { randomSectionWeights, seededRandom } from './random-weights';
import { referenceSection } from './tfjs-reference';

function unpack(bytes: Uint8Array, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((bytes[i >> 3] >> (i & 7)) & 1 ? 1 : -1));
}

interface Case {
  shape: [number, number, number];
  inputs: number;
  filters: number[];
  stride: number;
  dead: number[];
}

const cases: Case[] = [
  { shape: [16, 16, 4], inputs: 6, filters: [16, 16], stride: 1, dead: [] },
  { shape: [16, 16, 4], inputs: 6, filters: [16, 16], stride: 1, dead: [2] },
  { shape: [16, 16, 4], inputs: 6, filters: [16, 16], stride: 1, dead: [0, 5] },
  { shape: [8, 8, 16], inputs: 3, filters: [16], stride: 1, dead: [1] },
  { shape: [9, 7, 3], inputs: 5, filters: [5, 4], stride: 2, dead: [4] },
  { shape: [6, 6, 1], inputs: 2, filters: [3], stride: 1, dead: [0, 1] },
];

describe('bit-packed edge/cloud section vs tfjs float ops', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    for (const aggregator of ['CC', 'MP'] as BinaryAggregator[]) {
      it.each(cases.map((c, i) => [`${c.inputs}x${c.shape.join('x')} f=${c.filters.join(',')} s${c.stride} dead [${c.dead.join(',')}]`, c, i] as const))(
        `${backend}, ${aggregator}: %s`,
        async (_name, c, i) => {
          await tf.setBackend(backend);
          const [h, w, f] = c.shape;
          const size = h * w * f;
          const rand = seededRandom(500 + i);
          const channels = aggregator === 'CC' ? f * c.inputs : f;
          let oh = h;
          let ow = w;
          for (let b = 0; b < c.filters.length; b++) {
            oh = Math.floor((oh - 1) / c.stride) + 1;
            ow = Math.floor((ow - 1) / c.stride) + 1;
          }
          const fo = c.filters[c.filters.length - 1];
          const weights = randomSectionWeights({ channels, filters: c.filters, featureSize: oh * ow * fo, classes: 3 }, 900 + i);
          const section = createBinaryUpperSection(weights, { inputShape: c.shape, inputs: c.inputs, aggregator, blocks: c.filters.length, classes: 3, poolStride: c.stride });
          for (let sample = 0; sample < 3; sample++) {
            const maps = Array.from({ length: c.inputs }, () => Float32Array.from({ length: size }, () => (rand() < 0.5 ? 1 : -1)));
            const messages = maps.map((m, j) => (c.dead.includes(j) ? null : packSigns(m)));
            const out = section.infer(messages);
            const ref = tf.tidy(() => {
              const inputs = maps.map((m, j) => (c.dead.includes(j) ? tf.zeros([1, h, w, f]) : tf.tensor4d(m, [1, h, w, f])));
              const x = (aggregator === 'CC' ? tf.concat(inputs, 3) : inputs.reduce((a, b) => tf.maximum(a, b))) as tf.Tensor4D;
              const r = referenceSection(x, weights, { blocks: c.filters.length, poolStride: c.stride, poolPadding: 1, batchNorm: 'layers' });
              return [r.scores.dataSync() as Float32Array, r.features.dataSync() as Float32Array] as const;
            });
            expect(section.featureShape).toEqual([oh, ow, fo]);
            expect(unpack(out.features, oh * ow * fo)).toEqual(ref[1]);
            expect(Array.from(new Uint32Array(out.scores.buffer))).toEqual(Array.from(new Uint32Array(Float32Array.from(ref[0]).buffer)));
          }
        },
      );
    }
  }

  it('refuses AP, whose averaged maps are not binary', () => {
    const weights = randomSectionWeights({ channels: 4, filters: [16], featureSize: 16 * 16 * 16, classes: 3 }, 1);
    expect(() => createBinaryUpperSection(weights, { inputShape: [16, 16, 4], inputs: 6, aggregator: 'AP' as BinaryAggregator, blocks: 1, classes: 3 })).toThrow(/CC or MP, got AP/);
  });

  it('names a malformed message', () => {
    const weights = randomSectionWeights({ channels: 8, filters: [4], featureSize: 4 * 4 * 4, classes: 3 }, 1);
    const section = createBinaryUpperSection(weights, { inputShape: [4, 4, 4], inputs: 2, aggregator: 'CC', blocks: 1, classes: 3 });
    expect(() => section.infer([new Uint8Array(8)])).toThrow(/expected 2 feature messages, got 1/);
    expect(() => section.infer([new Uint8Array(8), new Uint8Array(3)])).toThrow(/message 1 has 3 bytes, expected 8/);
  });
});
