import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddnn/datasets';
import { initBackend } from '../backend';
import { liveMasks } from './dropout-masks';

beforeAll(async () => {
  await initBackend('wasm');
});

const allCaptured = (devices: number, size: number) => Array.from({ length: devices }, () => new Float32Array(size).fill(1));

/** Dead devices of each sample, from the masks. */
function deadCounts(masks: tf.Tensor2D[], size: number): number[] {
  const data = masks.map((m) => m.dataSync());
  return Array.from({ length: size }, (_, i) => data.filter((d) => d[i] === 0).length);
}

describe('training live masks', () => {
  it('are absent when every view is captured and nothing drops out, or with one device', () => {
    expect(liveMasks(allCaptured(6, 10), 0, 0, new Rng(1))).toBeNull();
    expect(liveMasks(allCaptured(1, 10), 0.5, 0.5, new Rng(1))).toBeNull();
  });

  it('treat a view the camera did not capture as a dead device', () => {
    const captured = allCaptured(3, 4);
    captured[1][2] = 0;
    const masks = liveMasks(captured, 0, 0, new Rng(1)) as tf.Tensor2D[];
    expect(masks.map((m) => Array.from(m.dataSync()))).toEqual([
      [1, 1, 1, 1],
      [1, 1, 0, 1],
      [1, 1, 1, 1],
    ]);
    tf.dispose(masks);
  });

  it('kill at most one device a sample with `one` alone, about that often', () => {
    const n = 4000;
    const masks = liveMasks(allCaptured(6, n), 0.5, 0, new Rng(3)) as tf.Tensor2D[];
    const dead = deadCounts(masks, n);
    expect(Math.max(...dead)).toBe(1);
    expect(dead.reduce((a, b) => a + b, 0) / n).toBeGreaterThan(0.45);
    expect(dead.reduce((a, b) => a + b, 0) / n).toBeLessThan(0.55);
    tf.dispose(masks);
  });

  it('drop captured views only, and never a sample\'s last one', () => {
    const n = 2000;
    // views 0 and 1 captured everywhere, view 2 never, view 3 in every other sample
    const captured = [new Float32Array(n).fill(1), new Float32Array(n).fill(1), new Float32Array(n), Float32Array.from({ length: n }, (_, i) => i % 2)];
    const masks = liveMasks(captured, 1, 0, new Rng(4)) as tf.Tensor2D[];
    const data = masks.map((m) => m.dataSync());
    for (let i = 0; i < n; i++) {
      expect(data[2][i]).toBe(0);
      const live = data.filter((d) => d[i] === 1).length;
      // one captured view lost in every sample (drop-out 1)
      expect(live).toBe(1 + (i % 2));
    }
    const single = [new Float32Array(50).fill(1), new Float32Array(50)];
    const kept = liveMasks(single, 1, 0.9, new Rng(5)) as tf.Tensor2D[];
    expect(Array.from(kept[0].dataSync()).every((x) => x === 1)).toBe(true);
    tf.dispose([...masks, ...kept]);
  });

  it('kill each device independently with `each`, several at once, never all of them', () => {
    const n = 4000;
    const masks = liveMasks(allCaptured(6, n), 0, 0.3, new Rng(5)) as tf.Tensor2D[];
    const dead = deadCounts(masks, n);
    expect(Math.max(...dead)).toBeLessThanOrEqual(5);
    expect(dead.filter((d) => d >= 2).length).toBeGreaterThan(n * 0.4);
    // each device about 30% of the time, every device alike
    for (const m of masks) {
      const rate = 1 - Array.from(m.dataSync() as Float32Array).reduce((a, b) => a + b, 0) / n;
      expect(rate).toBeGreaterThan(0.26);
      expect(rate).toBeLessThan(0.34);
    }
    const all = liveMasks(allCaptured(4, 200), 0, 0.99, new Rng(7)) as tf.Tensor2D[];
    expect(Math.max(...deadCounts(all, 200))).toBe(3);
    tf.dispose([...masks, ...all]);
  });
});
