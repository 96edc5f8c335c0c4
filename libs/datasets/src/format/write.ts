import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError } from '../errors';
import { encodePng, type Raster } from '../image/raster';
import type { DatasetManifest, MultiViewDataset, Split } from '../types';
import { viewPixels } from '../types';
import { formatLabels, isValidSampleId, type LabelRow } from './labels';
import { parseManifest } from './manifest';
import { datasetPaths } from './paths';
import { toRaster } from './pixels';

/** Options for writing a dataset folder. */
export interface WriteOptions {
  /** Replace an existing dataset in the folder (only its manifest, labels and samples are removed). */
  overwrite?: boolean;
}

/**
 * Writes a dataset folder sample by sample. manifest.json and labels.csv are written by finish(),
 * so an interrupted write never looks like a complete dataset.
 */
export class DatasetWriter {
  private readonly rows: LabelRow[] = [];
  private readonly ids = new Set<string>();

  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
    /** Whether create() made `dir` (abort removes it then, and only then). */
    private readonly madeDir: boolean,
  ) {}

  /** Prepares `dir` (refusing to mix with an existing dataset unless overwrite is set). */
  static async create(dir: string, manifest: DatasetManifest, options: WriteOptions = {}): Promise<DatasetWriter> {
    const checked = parseManifest(manifest, datasetPaths.manifest(dir));
    const madeDir = (await mkdir(dir, { recursive: true })) !== undefined;
    const existing = new Set(await readdir(dir));
    const ours = ['manifest.json', 'labels.csv', 'samples'].filter((f) => existing.has(f));
    // finish() writes labels.csv before manifest.json: a manifest without labels is another kind's (a model checkpoint).
    if (existing.has('manifest.json') && !existing.has('labels.csv')) {
      throw new DatasetFormatError(dir, 'holds a manifest.json that is not a dataset\'s (no labels.csv beside it), for instance a model checkpoint; a dataset is never written over it');
    }
    if (ours.length && !options.overwrite) {
      throw new DatasetFormatError(dir, `already holds a dataset (${ours.join(', ')}); pass overwrite (--force) to replace it`);
    }
    for (const f of ours) await rm(join(dir, f), { recursive: true, force: true });
    await mkdir(datasetPaths.samples(dir), { recursive: true });
    return new DatasetWriter(dir, checked, madeDir);
  }

  /** Adds one sample; `views[v]` null means camera v did not capture it. */
  async add(sample: string, split: Split, label: number, views: readonly (Raster | null)[]): Promise<void> {
    const m = this.manifest;
    if (!isValidSampleId(sample)) throw new Error(`bad sample id "${sample}"`);
    if (this.ids.has(sample)) throw new Error(`duplicate sample "${sample}"`);
    if (!Number.isInteger(label) || label < 0 || label >= m.classes.length) throw new Error(`bad label ${label} for "${sample}"`);
    if (views.length !== m.views) throw new Error(`sample "${sample}" has ${views.length} views, manifest says ${m.views}`);
    if (views.every((v) => v === null)) throw new Error(`sample "${sample}" has no views`);
    const folder = datasetPaths.sample(this.dir, sample);
    await mkdir(folder);
    for (let v = 0; v < views.length; v++) {
      const img = views[v];
      if (!img) continue;
      if (img.width !== m.width || img.height !== m.height || img.channels !== m.channels) {
        throw new Error(`view ${v} of "${sample}" is ${img.width}x${img.height}x${img.channels}, manifest says ${m.width}x${m.height}x${m.channels}`);
      }
      await writeFile(datasetPaths.view(this.dir, sample, v), encodePng(img));
    }
    this.ids.add(sample);
    this.rows.push({ sample, split, label });
  }

  /**
   * Removes what this writer wrote (an import that failed part-way leaves no half dataset behind), and the folder
   * itself when create() made it and nothing else is in it.
   */
  async abort(): Promise<void> {
    await rm(datasetPaths.samples(this.dir), { recursive: true, force: true });
    await rm(datasetPaths.labels(this.dir), { force: true });
    await rm(datasetPaths.manifest(this.dir), { force: true });
    if (this.madeDir) await rmdir(this.dir).catch(() => undefined);
  }

  /** Writes labels.csv and manifest.json. */
  async finish(): Promise<void> {
    if (this.rows.length === 0) throw new Error('a dataset needs at least one sample');
    await writeFile(datasetPaths.labels(this.dir), formatLabels(this.rows, this.manifest));
    await writeFile(datasetPaths.manifest(this.dir), JSON.stringify(this.manifest, null, 2) + '\n');
  }
}

/** Writes an in-memory dataset to a folder (pixels are quantised to 8 bits). */
export async function writeDataset(dir: string, ds: MultiViewDataset, options: WriteOptions = {}): Promise<void> {
  const writer = await DatasetWriter.create(dir, ds.manifest, options);
  const views = ds.manifest.views;
  for (let n = 0; n < ds.sampleIds.length; n++) {
    const images: (Raster | null)[] = [];
    for (let v = 0; v < views; v++) {
      images.push(ds.present[n * views + v] ? toRaster(viewPixels(ds, n, v), ds.manifest) : null);
    }
    await writer.add(ds.sampleIds[n], ds.splits[n], ds.labels[n], images);
  }
  await writer.finish();
}
