import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddnn/datasets';

/**
 * Per device [N,1] live masks: each sample, with probability `one`, has one random device dead; then every device,
 * with probability `each`, is dead independently, one random device kept live when none would be.
 */
export function dropoutMasks(size: number, devices: number, one: number, each: number, rng: Rng): tf.Tensor2D[] | null {
  if ((one <= 0 && each <= 0) || devices < 2) return null;
  const masks = Array.from({ length: devices }, () => new Float32Array(size).fill(1));
  for (let i = 0; i < size; i++) {
    if (one > 0 && rng.chance(one)) masks[rng.int(devices)][i] = 0;
    if (each <= 0) continue;
    let live = 0;
    for (const m of masks) {
      if (m[i] && rng.chance(each)) m[i] = 0;
      live += m[i];
    }
    if (!live) masks[rng.int(devices)][i] = 1;
  }
  return masks.map((m) => tf.tensor2d(m, [size, 1]));
}
