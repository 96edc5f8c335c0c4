import type { MultiViewDataset, Split } from '@ddnn/datasets';

/** Indices of the samples in a split. */
export function splitIndices(ds: MultiViewDataset, split: Split): number[] {
  const out: number[] = [];
  ds.splits.forEach((s, i) => {
    if (s === split) out.push(i);
  });
  return out;
}

/** Gathers view `view` of the given samples into one [n, H, W, C] block. */
export function gatherView(ds: MultiViewDataset, indices: readonly number[], view: number): Float32Array {
  const { views, height, width, channels } = ds.manifest;
  if (view < 0 || view >= views) throw new Error(`the model needs view ${view} but the dataset has views 0..${views - 1}`);
  const size = height * width * channels;
  const out = new Float32Array(indices.length * size);
  indices.forEach((n, i) => out.set(ds.pixels.subarray((n * views + view) * size, (n * views + view + 1) * size), i * size));
  return out;
}

/** 1/0 per sample: whether view `view` was captured. */
export function gatherPresent(ds: MultiViewDataset, indices: readonly number[], view: number): Float32Array {
  const out = new Float32Array(indices.length);
  indices.forEach((n, i) => (out[i] = ds.present[n * ds.manifest.views + view]));
  return out;
}
