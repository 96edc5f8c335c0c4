import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DatasetFormatError, loadDatasetView, viewSize } from '@ddnn/datasets';
import { NOT_CAPTURED, type ViewSource } from './device-runtime';

/** Finds a dataset by name: `root` itself when it is that dataset, else `root/<name>`. */
export function resolveDatasetDir(root: string, name: string): string {
  if (!/^[\w.-]+$/.test(name) || name === '.' || name === '..') throw new Error(`invalid dataset name ${JSON.stringify(name)}`);
  const own = path.join(root, 'manifest.json');
  if (existsSync(own)) {
    try {
      if ((JSON.parse(readFileSync(own, 'utf8')) as { name?: unknown }).name === name) return root;
    } catch {
      // not a dataset manifest: look below
    }
  }
  return path.join(root, name);
}

/** One camera's view of a dataset folder, indexed by sample id (a view the camera did not capture is NOT_CAPTURED). */
export async function loadViewSource(root: string, dataset: string, view: number): Promise<ViewSource> {
  const dir = resolveDatasetDir(root, dataset);
  const ds = await loadDatasetView(dir, view).catch((e: unknown) => {
    // Named inside the dataset: the message goes into the event log (DeviceMissed), where a simulated device's
    // absolute paths were the server's own.
    if (e instanceof DatasetFormatError) throw new DatasetFormatError(path.relative(dir, e.path) || '.', e.problem.split(`${dir}${path.sep}`).join(''));
    throw e;
  });
  const size = viewSize(ds.manifest);
  const byId = new Map(ds.sampleIds.map((id, i) => [id, i]));
  return {
    pixels(sampleId) {
      const i = byId.get(sampleId);
      if (i === undefined) return null;
      return ds.present[i] ? ds.pixels.subarray(i * size, (i + 1) * size) : NOT_CAPTURED;
    },
  };
}
