import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddnn/datasets';

/**
 * Per device [N,1] live masks of a training batch. A view the camera did not capture is a device that sends
 * nothing (`captured` 0), exactly as a dead one at inference. Drop-out then acts on the captured views only: each
 * sample, with probability `one`, loses one random captured view; then every captured view, with probability
 * `each`, is lost independently. Drop-out never removes a sample's last captured view (a sample without evidence
 * teaches nothing). Null when every mask would be all ones.
 */
export function liveMasks(captured: readonly Float32Array[], one: number, each: number, rng: Rng): tf.Tensor2D[] | null {
  const devices = captured.length;
  const size = devices ? captured[0].length : 0;
  const masks = captured.map((c) => Float32Array.from(c));
  const dropping = devices >= 2 && (one > 0 || each > 0);
  if (dropping) {
    for (let i = 0; i < size; i++) {
      const live = masks.map((_, d) => d).filter((d) => masks[d][i]);
      if (live.length < 2) continue;
      if (one > 0 && rng.chance(one)) masks[live[rng.int(live.length)]][i] = 0;
      if (each <= 0) continue;
      const left = live.filter((d) => masks[d][i] && !rng.chance(each));
      for (const d of live) masks[d][i] = 0;
      const keep = left.length ? left : [live[rng.int(live.length)]];
      for (const d of keep) masks[d][i] = 1;
    }
  }
  if (masks.every((m) => m.every((x) => x === 1))) return null;
  return masks.map((m) => tf.tensor2d(m, [size, 1]));
}
