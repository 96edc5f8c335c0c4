import type { MultiViewDataset } from '../types';
import { viewSize } from '../types';

/** Counts and image statistics of a loaded dataset, for `ddnn dataset info`. */
export interface DatasetSummary {
  name: string;
  samples: number;
  views: number;
  shape: { height: number; width: number; channels: number };
  classes: { name: string; train: number; test: number; total: number; fraction: number }[];
  splits: { train: number; test: number };
  /** Per view: fraction of samples the view is missing, and mean/std of its present pixels. */
  perView: { view: number; present: number; missingRate: number; mean: number; std: number }[];
  /** How many samples have k views present, k = 0..views. */
  viewsPresentHistogram: number[];
  missingRate: number;
}

/** Summarises a dataset: class counts per split, missing views per view, pixel statistics. */
export function summarizeDataset(ds: MultiViewDataset): DatasetSummary {
  const m = ds.manifest;
  const n = ds.sampleIds.length;
  const V = m.views;
  const size = viewSize(m);
  const classes = m.classes.map((name) => ({ name, train: 0, test: 0, total: 0, fraction: 0 }));
  for (let i = 0; i < n; i++) {
    const c = classes[ds.labels[i]];
    c[ds.splits[i]]++;
    c.total++;
  }
  for (const c of classes) c.fraction = c.total / n;
  const hist = new Array(V + 1).fill(0);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let v = 0; v < V; v++) k += ds.present[i * V + v];
    hist[k]++;
  }
  const perView = Array.from({ length: V }, (_, v) => {
    let present = 0;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      if (!ds.present[i * V + v]) continue;
      present++;
      const start = (i * V + v) * size;
      for (let k = start; k < start + size; k++) {
        sum += ds.pixels[k];
        sq += ds.pixels[k] * ds.pixels[k];
      }
    }
    const count = present * size;
    const mean = count ? sum / count : 0;
    return { view: v, present, missingRate: 1 - present / n, mean, std: count ? Math.sqrt(Math.max(0, sq / count - mean * mean)) : 0 };
  });
  const train = ds.splits.filter((s) => s === 'train').length;
  return {
    name: m.name,
    samples: n,
    views: V,
    shape: { height: m.height, width: m.width, channels: m.channels },
    classes,
    splits: { train, test: n - train },
    perView,
    viewsPresentHistogram: hist,
    missingRate: perView.reduce((s, p) => s + p.missingRate, 0) / V,
  };
}
