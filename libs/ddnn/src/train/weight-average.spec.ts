import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { WeightAverage, weightAverageDecay } from './weight-average';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('the moving average of the weights', () => {
  it('averages each step with a short warm-up horizon, then the decay', () => {
    const v = tf.variable(tf.tensor1d([0, 10]), true);
    const avg = new WeightAverage([v], 0.5);
    // step 1: d = min(0.5, 2/11) = 2/11 -> 0 * 2/11 + 1 * 9/11
    v.assign(tf.tensor1d([1, 10]));
    avg.update();
    // step 2: d = min(0.5, 3/12) = 0.25
    v.assign(tf.tensor1d([3, 10]));
    avg.update();
    const first = 9 / 11;
    const expected = 0.25 * first + 0.75 * 3;
    const live = avg.swapIn();
    const averaged = Array.from(v.dataSync());
    expect(averaged[0]).toBeCloseTo(expected, 5);
    expect(averaged[1]).toBeCloseTo(10, 5);
    avg.restore(live);
    expect(Array.from(v.dataSync())).toEqual([3, 10]);
    // many steps at a constant value converge to it at the decay's rate
    v.assign(tf.tensor1d([-2, 4]));
    for (let i = 0; i < 40; i++) avg.update();
    const settled = avg.swapIn();
    expect(v.dataSync()[0]).toBeCloseTo(-2, 4);
    expect(v.dataSync()[1]).toBeCloseTo(4, 4);
    avg.restore(settled);
    avg.dispose();
    v.dispose();
  });

  it('rejects a decay outside (0, 1) and sizes the horizon to a tenth of the run', () => {
    const v = tf.variable(tf.scalar(1));
    expect(() => new WeightAverage([v], 1)).toThrow(/decay/);
    expect(() => new WeightAverage([v], 0)).toThrow(/decay/);
    v.dispose();
    expect(weightAverageDecay(800)).toBeCloseTo(1 - 1 / 80, 10);
    expect(weightAverageDecay(20)).toBeCloseTo(0.9, 10);
  });
});
