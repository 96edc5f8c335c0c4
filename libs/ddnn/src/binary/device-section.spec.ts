import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BatchNormFormula } from './batch-norm';
import { createBinaryDeviceSection } from './device-section';
import type { PoolPadding } from './pool-geometry';
import { randomSectionWeights, seededRandom } from './random-weights';
import { referenceSection } from './tfjs-reference';

interface Case {
  height: number;
  width: number;
  channels: number;
  filters: number[];
  classes: number;
}

function pooled(size: number, padding: PoolPadding): number {
  return padding === 'same' ? Math.ceil(size / 2) : Math.floor((size + 2 * padding - 3) / 2) + 1;
}

function unpack(bytes: Uint8Array, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((bytes[i >> 3] >> (i & 7)) & 1 ? 1 : -1));
}

// Every view is scaled by its own maximum into [0, 1], as the dataset does; some pixels are exactly 0
// and some views are all zero (a missing view).
function randomViews(n: number, size: number, seed: number): Float32Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, k) => {
    if (k === 1) return new Float32Array(size);
    const v = Float32Array.from({ length: size }, () => (rand() < 0.1 ? 0 : rand()));
    const max = v.reduce((a, b) => Math.max(a, b), 0);
    return v.map((x) => x / max);
  });
}

async function compare(backend: 'cpu' | 'wasm', c: Case, padding: PoolPadding, formula: BatchNormFormula, seed: number): Promise<void> {
  await tf.setBackend(backend);
  let h = c.height;
  let w = c.width;
  for (let b = 0; b < c.filters.length; b++) {
    h = pooled(h, padding);
    w = pooled(w, padding);
  }
  const f = c.filters[c.filters.length - 1];
  const weights = randomSectionWeights({ channels: c.channels, filters: c.filters, featureSize: h * w * f, classes: c.classes }, seed);
  const section = createBinaryDeviceSection(weights, { ...c, blocks: c.filters.length, poolPadding: padding, batchNorm: formula });
  expect(section.featureShape).toEqual([h, w, f]);
  expect(section.featureBytes).toBe(Math.ceil((h * w * f) / 8));
  const views = randomViews(6, c.height * c.width * c.channels, seed + 1);
  const batch = tf.tensor4d(Float32Array.from(views.flatMap((v) => Array.from(v))), [views.length, c.height, c.width, c.channels]);
  const ref = referenceSection(batch, weights, { blocks: c.filters.length, poolStride: 2, poolPadding: padding, batchNorm: formula });
  const refScores = ref.scores.dataSync() as Float32Array;
  const refFeatures = ref.features.dataSync() as Float32Array;
  tf.dispose([batch, ref.scores, ref.features]);
  const n = h * w * f;
  let positives = 0;
  views.forEach((view, k) => {
    const out = section.infer(view);
    expect(out.features.length).toBe(Math.ceil(n / 8));
    // Bits past the map's end in the last byte are zero.
    if (n % 8 !== 0) expect(out.features[out.features.length - 1] >> n % 8).toBe(0);
    const features = unpack(out.features, n);
    expect(features).toEqual(refFeatures.subarray(k * n, (k + 1) * n));
    positives += features.filter((x) => x > 0).length;
    // Bit-exact float32 scores: compare the raw bits, not approximately.
    const refBits = new Uint32Array(Float32Array.from(refScores.subarray(k * c.classes, (k + 1) * c.classes)).buffer);
    expect(Array.from(new Uint32Array(out.scores.buffer))).toEqual(Array.from(refBits));
  });
  // Both signs occur, so the comparison is not trivially all +1 or all -1.
  expect(positives).toBeGreaterThan(0);
  expect(positives).toBeLessThan(n * views.length);
}

const cases: Case[] = [
  { height: 32, width: 32, channels: 3, filters: [1], classes: 3 },
  { height: 32, width: 32, channels: 3, filters: [2], classes: 3 },
  { height: 32, width: 32, channels: 3, filters: [4], classes: 3 },
  { height: 32, width: 32, channels: 3, filters: [8], classes: 3 },
  { height: 32, width: 32, channels: 3, filters: [16], classes: 3 },
  { height: 32, width: 32, channels: 3, filters: [4, 4], classes: 3 },
  { height: 15, width: 11, channels: 5, filters: [7, 3], classes: 4 },
  { height: 20, width: 20, channels: 1, filters: [33, 16, 5], classes: 2 },
];

describe('bit-packed device section vs tfjs float ops', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    const formulas: BatchNormFormula[] = ['layers', backend];
    for (const formula of formulas) {
      for (const padding of [1, 'same'] as const) {
        it.each(cases.map((c, i) => [`${c.height}x${c.width}x${c.channels} f=${c.filters.join(',')}`, c, i] as const))(
          `${backend}, BatchNorm "${formula}", pool padding ${padding}: %s`,
          async (_name, c, i) => {
            await compare(backend, c, padding, formula, 100 + i);
          },
        );
      }
    }
  }
});

describe('the first block near its sign boundary', () => {
  // The first block sums in float64 and re-sums exactly only where a value is within the rounding bound of the
  // channel's critical value. Put each channel's BatchNorm mean exactly on a pooled conv output (as float32 rounds
  // it), so that BatchNorm gives exactly 0 there and only the exact sum decides each window's bit.
  it.each([['cpu'], ['wasm']] as const)('matches tfjs bit for bit on %s', async (backend) => {
    await tf.setBackend('cpu');
    const f = 8;
    const weights = randomSectionWeights({ channels: 3, filters: [f], featureSize: 16 * 16 * f, classes: 3 }, 77);
    const rand = seededRandom(78);
    // tenths are not dyadic, so float32 and float64 sums of them differ in the last bits
    const views = Array.from({ length: 4 }, () => Float32Array.from({ length: 32 * 32 * 3 }, () => Math.floor(rand() * 11) / 10));
    const kernel = tf.tensor4d(weights['convp0.w'].values, [3, 3, 3, f]);
    const sign = tf.sub(1, tf.mul(2, tf.step(tf.neg(kernel)))) as tf.Tensor4D;
    const pooled = tf.maxPool(tf.conv2d(tf.tensor4d(views[0], [1, 32, 32, 3]), sign, 1, 1), 3, 2, 1).dataSync() as Float32Array;
    tf.dispose([kernel, sign]);
    const mean = Float32Array.from({ length: f }, (_, c) => pooled[((37 * (c + 1)) % 256) * f + c]);
    weights['convp0.bn.mean'] = { shape: [f], values: mean };
    weights['convp0.bn.beta'] = { shape: [f], values: new Float32Array(f) };
    weights['convp0.bn.gamma'] = { shape: [f], values: Float32Array.from({ length: f }, (_, c) => (c % 2 ? -1 : 1) * (0.5 + c / 10)) };
    await tf.setBackend(backend);
    const section = createBinaryDeviceSection(weights, { height: 32, width: 32, channels: 3, blocks: 1, classes: 3 });
    const batch = tf.tensor4d(Float32Array.from(views.flatMap((v) => Array.from(v))), [views.length, 32, 32, 3]);
    const ref = referenceSection(batch, weights, { blocks: 1, poolStride: 2, poolPadding: 1, batchNorm: 'layers' });
    const refFeatures = ref.features.dataSync() as Float32Array;
    tf.dispose([batch, ref.scores, ref.features]);
    views.forEach((view, k) => {
      expect(unpack(section.infer(view).features, 16 * 16 * f)).toEqual(refFeatures.subarray(k * 16 * 16 * f, (k + 1) * 16 * 16 * f));
    });
  });
});

describe('createBinaryDeviceSection input checks', () => {
  const weights = randomSectionWeights({ channels: 3, filters: [4], featureSize: 16 * 16 * 4, classes: 3 }, 1);
  it('rejects a view of the wrong size', () => {
    const section = createBinaryDeviceSection(weights, { height: 32, width: 32, channels: 3, blocks: 1, classes: 3 });
    expect(() => section.infer(new Float32Array(10))).toThrow(/10 values, expected 3072/);
  });
  it('names a missing or misshapen tensor', () => {
    expect(() => createBinaryDeviceSection(weights, { height: 32, width: 32, channels: 1, blocks: 1, classes: 3 })).toThrow(/"convp0.w" has shape \[3,3,3,4\], expected \[3,3,1,4\]/);
    expect(() => createBinaryDeviceSection(weights, { height: 32, width: 32, channels: 3, blocks: 2, classes: 3 })).toThrow(/missing tensor "convp1.w"/);
    expect(() => createBinaryDeviceSection(weights, { height: 32, width: 32, channels: 3, blocks: 1, classes: 5 })).toThrow(/"fc.w" has shape \[1024,3\], expected \[1024,5\]/);
  });
});
