import { join } from 'node:path';

/** Where each part of a dataset folder lives. */
export const datasetPaths = {
  manifest: (dir: string) => join(dir, 'manifest.json'),
  labels: (dir: string) => join(dir, 'labels.csv'),
  samples: (dir: string) => join(dir, 'samples'),
  sample: (dir: string, id: string) => join(dir, 'samples', id),
  view: (dir: string, id: string, view: number) => join(dir, 'samples', id, `${view}.png`),
};

export const VIEW_FILE = /^(0|[1-9][0-9]*)\.png$/;
