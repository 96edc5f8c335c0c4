import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { dropoutMasks } from './dropout-masks';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Dead devices of each sample, from the masks. */
function deadCounts(masks: tf.Tensor2D[], size: number): number[] {
  const data = masks.map((m) => m.dataSync());
  return Array.from({ length: size }, (_, i) => data.filter((d) => d[i] === 0).length);
}

describe('training drop-out masks', () => {
  it('are absent without drop-out or with one device', () => {
    expect(dropoutMasks(10, 6, 0, 0, new Rng(1))).toBeNull();
    expect(dropoutMasks(10, 1, 0.5, 0.5, new Rng(1))).toBeNull();
  });

  it('kill at most one device a sample with `one` alone, about that often', () => {
    const n = 4000;
    const masks = dropoutMasks(n, 6, 0.5, 0, new Rng(3)) as tf.Tensor2D[];
    const dead = deadCounts(masks, n);
    expect(Math.max(...dead)).toBe(1);
    expect(dead.reduce((a, b) => a + b, 0) / n).toBeGreaterThan(0.45);
    expect(dead.reduce((a, b) => a + b, 0) / n).toBeLessThan(0.55);
    tf.dispose(masks);
  });

  it('kill each device independently with `each`, several at once, never all of them', () => {
    const n = 4000;
    const masks = dropoutMasks(n, 6, 0, 0.3, new Rng(5)) as tf.Tensor2D[];
    const dead = deadCounts(masks, n);
    expect(Math.max(...dead)).toBeLessThanOrEqual(5);
    expect(dead.filter((d) => d >= 2).length).toBeGreaterThan(n * 0.4);
    // each device about 30% of the time, every device alike
    for (const m of masks) {
      const rate = 1 - Array.from(m.dataSync() as Float32Array).reduce((a, b) => a + b, 0) / n;
      expect(rate).toBeGreaterThan(0.26);
      expect(rate).toBeLessThan(0.34);
    }
    const all = dropoutMasks(200, 4, 0, 0.99, new Rng(7)) as tf.Tensor2D[];
    expect(Math.max(...deadCounts(all, 200))).toBe(3);
    tf.dispose([...masks, ...all]);
  });
});
