import { Rng, type MultiViewDataset, type Split } from '@ddnn/datasets';

export interface TinyDatasetOptions {
  samples?: number;
  views?: number;
  size?: number;
  classes?: number;
  seed?: number;
  /** Probability that a view is missing (all-zero image, present 0). */
  missing?: number;
  /** Fraction of samples in the test split. */
  testFraction?: number;
}

/**
 * A small in-memory multi-view dataset for tests: class k is a bright square in quadrant k (mod 4) of every view,
 * tinted per class, with noise, so a DDNN can learn it in a few epochs while single views stay imperfect.
 */
export function tinyDataset(options: TinyDatasetOptions = {}): MultiViewDataset {
  const n = options.samples ?? 120;
  const views = options.views ?? 3;
  const size = options.size ?? 8;
  const classes = options.classes ?? 3;
  const rng = new Rng(options.seed ?? 7);
  const missing = options.missing ?? 0.15;
  const testFraction = options.testFraction ?? 0.25;
  const c = 3;
  const pixels = new Float32Array(n * views * size * size * c);
  const labels = new Int32Array(n);
  const present = new Uint8Array(n * views);
  const splits: Split[] = [];
  const half = size / 2;
  for (let s = 0; s < n; s++) {
    const label = rng.int(classes);
    labels[s] = label;
    splits.push(s < Math.round(n * (1 - testFraction)) ? 'train' : 'test');
    for (let v = 0; v < views; v++) {
      if (v > 0 && rng.chance(missing)) continue;
      present[s * views + v] = 1;
      const qy = Math.floor((label % 4) / 2) * half;
      const qx = (label % 2) * half;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const inside = y >= qy && y < qy + half && x >= qx && x < qx + half;
          for (let k = 0; k < c; k++) {
            const tint = k === label % c ? 0.3 : 0;
            const value = (inside ? 0.6 + tint : 0.1) + 0.25 * rng.normal();
            pixels[(((s * views + v) * size + y) * size + x) * c + k] = Math.min(1, Math.max(0, value));
          }
        }
    }
  }
  return {
    manifest: { name: 'tiny', classes: Array.from({ length: classes }, (_, k) => `class${k}`), views, height: size, width: size, channels: c },
    sampleIds: Array.from({ length: n }, (_, i) => `s${i}`),
    splits,
    labels,
    present,
    pixels,
  };
}
