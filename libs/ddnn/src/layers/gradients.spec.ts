import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { batchNormTrain } from './batchnorm';
import { signOf, signSte } from './binarize';
import { BN_EPSILON } from './constants';
import { binaryConv, binaryDense, floatConv, prepareWeightGradInput } from './conv';
import { maxPool3x3 } from './maxpool';

function random(shape: number[], seed: number, scale = 1, integer = false): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = integer ? Math.round(rng.normal() * scale) : rng.normal() * scale;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs fn on a backend and downloads the results. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(backend);
  const out = tf.tidy(fn);
  const data = out.map((t) => t.dataSync() as Float32Array);
  out.forEach((t) => t.dispose());
  return data;
}

describe('custom gradients on wasm match the cpu backend', () => {
  afterAll(async () => {
    await initBackend('wasm');
  });

  it('binary conv: weight and input gradients equal the stock cpu conv gradients through sign', async () => {
    const xs = random([4, 9, 9, 3], 1);
    const ws = random([3, 3, 3, 5], 2, 0.6);
    const dys = random([4, 9, 9, 5], 3);
    const mine = await on('wasm', () => {
      const x = tf.tensor4d(xs, [4, 9, 9, 3]);
      const dy = tf.tensor4d(dys, [4, 9, 9, 5]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => binaryConv(a as tf.Tensor4D, b as tf.Tensor4D, true))([x, tf.tensor4d(ws, [3, 3, 3, 5])], dy);
      const gw = tf.grad((b: tf.Tensor) => binaryConv(x, b as tf.Tensor4D, false))(tf.tensor4d(ws, [3, 3, 3, 5]), dy);
      return [...g, gw];
    });
    const ref = await on('cpu', () => {
      const x = tf.tensor4d(xs, [4, 9, 9, 3]);
      const wb = signOf(tf.tensor4d(ws, [3, 3, 3, 5])) as tf.Tensor4D;
      const dy = tf.tensor4d(dys, [4, 9, 9, 5]);
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))([x, wb], dy);
      const mask = tf.lessEqual(tf.abs(tf.tensor4d(ws, [3, 3, 3, 5])), 1);
      return [gx, tf.where(mask, gw, tf.zerosLike(gw))];
    });
    expect(maxAbsDiff(mine[0], ref[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(mine[1], ref[1])).toBeLessThan(1e-3);
    expect(maxAbsDiff(mine[2], ref[1])).toBeLessThan(1e-3);
    // weights outside [-1, 1] get no gradient (hard-tanh STE)
    expect(ws.some((v) => Math.abs(v) > 1)).toBe(true);
  });

  it.each([4, 12])('float conv with %i input channels: weight and input gradients equal the stock cpu conv gradients', async (cin) => {
    const xs = random([5, 7, 6, cin], 14);
    const ws = random([3, 3, cin, 6], 15, 0.5);
    const dys = random([5, 7, 6, 6], 16);
    const grads = (conv: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => () =>
      tf.grads(conv)([tf.tensor4d(xs, [5, 7, 6, cin]), tf.tensor4d(ws, [3, 3, cin, 6])], tf.tensor4d(dys, [5, 7, 6, 6]));
    const mine = await on('wasm', grads((a, b) => floatConv(a as tf.Tensor4D, b as tf.Tensor4D, true)));
    const ref = await on('cpu', grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')));
    expect(maxAbsDiff(mine[0], ref[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(mine[1], ref[1])).toBeLessThan(1e-3);
    expect(Array.from(ref[1]).some((v) => Math.abs(v) > 1)).toBe(true);
  });

  it.each([2, 1])('max-pool 3x3 pad 1 stride %i: values and gradient, with ties', async (stride) => {
    const xs = random([3, 10, 10, 4], 4, 1.5, true); // integers: many ties, as binary convs produce
    const dys = random([3, stride === 2 ? 5 : 10, stride === 2 ? 5 : 10, 4], 5);
    const dyShape = [3, stride === 2 ? 5 : 10, stride === 2 ? 5 : 10, 4];
    const pooled = (pool: (a: tf.Tensor) => tf.Tensor) => () => {
      const x = tf.tensor4d(xs, [3, 10, 10, 4]);
      return [pool(x), tf.grad(pool)(x, tf.tensor(dys, dyShape))];
    };
    const mine = pooled((a) => maxPool3x3(a as tf.Tensor4D, stride));
    // The wasm heap kernel, and the plain path other backends take.
    const results = [await on('wasm', mine), await on('cpu', mine)];
    const ref = await on('cpu', pooled((a) => tf.maxPool(a as tf.Tensor4D, 3, stride, 1)));
    for (const r of results) {
      expect(maxAbsDiff(r[0], ref[0])).toBe(0);
      expect(maxAbsDiff(r[1], ref[1])).toBeLessThan(1e-5);
    }
    expect(Array.from(ref[1]).some((v) => v !== 0)).toBe(true);
  });

  it('the weight-gradient layout of a conv input is the padded input transposed, bit for bit', async () => {
    const xs = random([3, 5, 7, 4], 13);
    const prepared = () => [prepareWeightGradInput(tf.tensor4d(xs, [3, 5, 7, 4]))];
    const ref = await on('cpu', () => [tf.transpose(tf.pad(tf.tensor4d(xs, [3, 5, 7, 4]), [[0, 0], [1, 1], [1, 1], [0, 0]]), [3, 1, 2, 0])]);
    for (const backend of ['wasm', 'cpu'] as const) expect(Array.from((await on(backend, prepared))[0])).toEqual(Array.from(ref[0]));
  });

  it.each([0, 40])('batch norm (values offset by %i): batch statistics, values and gradients equal the plain formula autodiffed on cpu', async (offset) => {
    const xs = random([6, 5, 5, 3], 6, 2).map((v) => v + offset);
    const gs = random([3], 7);
    const bs = random([3], 8);
    const dys = random([6, 5, 5, 3], 9);
    const run = (custom: boolean) => () => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        if (custom) return batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D);
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), g), b);
      };
      const args = [tf.tensor(xs, [6, 5, 5, 3]), tf.tensor(gs), tf.tensor(bs)];
      const y = f(args[0], args[1], args[2]);
      const { mean, variance } = tf.moments(args[0], [0, 1, 2]);
      let stats = [mean, variance];
      if (custom) batchNormTrain(args[0], args[1] as tf.Tensor1D, args[2] as tf.Tensor1D, (s) => (stats = [s.mean, s.variance]));
      return [y, ...tf.grads(f)(args, tf.tensor(dys, [6, 5, 5, 3])), ...stats];
    };
    const mine = await on('wasm', run(true));
    const ref = await on('cpu', run(false));
    // [y, dx, dGamma, dBeta, mean, variance]: only the mean grows with the offset.
    mine.forEach((m, i) => expect(maxAbsDiff(m, ref[i])).toBeLessThan(i === 4 ? 1e-4 * (1 + offset) : 1e-4));
    // The variance is far smaller than the mean squared: no cancellation beyond float32 rounding.
    expect(maxAbsDiff(mine[5], ref[5]) / Math.max(...Array.from(ref[5]))).toBeLessThan(1e-5);
  });

  it('binary dense: gradients equal the stock matMul gradients through sign', async () => {
    const xs = random([7, 12], 10);
    const ws = random([12, 3], 11, 0.8);
    const dys = random([7, 3], 12);
    const mine = await on('wasm', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => binaryDense(a as tf.Tensor2D, b as tf.Tensor2D, true))([tf.tensor2d(xs, [7, 12]), tf.tensor2d(ws, [12, 3])], tf.tensor2d(dys, [7, 3])));
    const ref = await on('cpu', () => {
      const wsT = tf.tensor2d(ws, [12, 3]);
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))([tf.tensor2d(xs, [7, 12]), signOf(wsT)], tf.tensor2d(dys, [7, 3]));
      return [gx, tf.where(tf.lessEqual(tf.abs(wsT), 1), gw, tf.zerosLike(gw))];
    });
    expect(maxAbsDiff(mine[0], ref[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(mine[1], ref[1])).toBeLessThan(1e-4);
  });
});

describe('sign with the straight-through estimator', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('maps x >= 0 to +1 and x < 0 to -1, and passes the gradient only where |x| <= 1', () => {
    const x = tf.tensor1d([-2, -1, -0.5, 0, 0.5, 1, 1.5]);
    expect(Array.from(signSte(x).dataSync())).toEqual([-1, -1, -1, 1, 1, 1, 1]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(signSte(a), tf.tensor1d([1, 2, 3, 4, 5, 6, 7]))))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 2, 3, 4, 5, 6, 0]);
  });
});
